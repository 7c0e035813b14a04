//! The checked-in SDL files under schema/departments/ equal what each department serves,
//! and the six SDLs compose into one supergraph.
//!
//! Regenerate the files with `UPDATE_SCHEMAS=1 cargo test -p tellonce-departments --test schema_files`.

use std::path::PathBuf;
use tellonce_departments::Department;

fn schema_path(department: Department) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schema/departments")
        .join(format!("{}.graphql", department.name()))
}

#[test]
fn checked_in_sdl_files_match_the_code() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for &department in Department::all() {
        let path = schema_path(department);
        let sdl = department.sdl();
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &sdl).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != sdl {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run with UPDATE_SCHEMAS=1 to regenerate): {stale:?}"
    );
}

#[test]
fn department_sdls_compose_without_errors() {
    let mut subgraphs = graphql_composition::Subgraphs::default();
    for &department in Department::all() {
        let url = format!("http://127.0.0.1/{}/graphql", department.name());
        subgraphs
            .ingest_str(&department.sdl(), department.name(), Some(&url))
            .unwrap_or_else(|e| panic!("{department} does not parse: {e:?}"));
    }
    let result = graphql_composition::compose(&mut subgraphs);
    let diagnostics: Vec<String> = result
        .diagnostics()
        .iter_messages()
        .map(str::to_string)
        .collect();
    let graph = result.into_result().unwrap_or_else(|d| {
        panic!(
            "composition failed: {:#?}",
            d.iter_messages().collect::<Vec<_>>()
        )
    });
    assert!(
        diagnostics.is_empty(),
        "composition diagnostics: {diagnostics:#?}"
    );

    let supergraph = graphql_composition::render_federated_sdl(&graph).unwrap();
    // Person is an entity in four departments, Company in two, Trader in two.
    let person = type_header(&supergraph, "type Person");
    for graph in ["HMRC", "DWP", "DVLA", "PASSPORT_OFFICE"] {
        assert!(
            person.contains(&format!("graph: {graph}, key: \"nino\"")),
            "{person}"
        );
    }
    let company = type_header(&supergraph, "type Company");
    for graph in ["HMRC", "COMPANIES_HOUSE"] {
        assert!(
            company.contains(&format!("graph: {graph}, key: \"companyNumber\"")),
            "{company}"
        );
    }
    let trader = type_header(&supergraph, "type Trader");
    for graph in ["HMRC", "BORDER_FORCE"] {
        assert!(
            trader.contains(&format!("graph: {graph}, key: \"eori\"")),
            "{trader}"
        );
    }
    assert!(
        supergraph.contains("@join__field(graph: DWP, requires: \"dateOfBirth\")"),
        "{supergraph}"
    );
    assert!(
        supergraph.contains("@join__field(graph: DWP, provides: \"name\")"),
        "{supergraph}"
    );
}

/// The lines of `sdl` from `header` to the opening brace.
fn type_header<'a>(sdl: &'a str, header: &str) -> &'a str {
    let start = sdl
        .find(&format!("{header}\n"))
        .or_else(|| sdl.find(&format!("{header} ")))
        .unwrap_or_else(|| panic!("{header} missing"));
    let end = sdl[start..].find('{').map_or(sdl.len(), |i| start + i);
    &sdl[start..end]
}
