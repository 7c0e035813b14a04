//! JavaScript packages for tests: a folder of the repository's (its
//! package.json and package-lock.json, and the scripts beside them) copied
//! to a folder the test owns and installed there with `npm ci`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `files` of `folder` (relative to the repository) in a new folder, with
/// the locked packages installed.
pub fn installed(folder: &str, files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    for file in files {
        std::fs::copy(source.join(file), dir.path().join(file))
            .unwrap_or_else(|e| panic!("copy {folder}/{file}: {e}"));
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir.path())
        .output()
        .expect("run npm (Node.js and npm must be installed)");
    assert!(
        output.status.success(),
        "npm ci failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// Runs `node <dir>/<script> args…`, which prints one JSON value.
pub fn run_script(dir: &Path, script: &str, args: &[&str]) -> Value {
    let output = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .output()
        .expect("run node");
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
