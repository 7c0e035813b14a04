//! Each agency's rules on small consignments, without HTTP (the HTTP protocol is covered by
//! `tests/agencies.rs`).

use super::consignment::Consignment;
use super::protocol::{
    CheckKind, ConsignmentAssessmentInput, ConsignmentItemInput, RiskAssessment, RiskLevel,
};
use super::Agency;

/// One line of goods: commodity code, net kg, value in £.
type Line = (&'static str, f64, f64);

fn input(origin: &str, lines: &[Line]) -> ConsignmentAssessmentInput {
    ConsignmentAssessmentInput {
        reference: "CONS-TEST-0001".into(),
        declarant: "GB123456789000".into(),
        importer: "GB123456789000".into(),
        exporter: None,
        origin_country: origin.into(),
        dispatch_country: origin.into(),
        procedure_code: "4000".into(),
        location_of_goods: "GB/A/U/DVRDOVDVR".into(),
        port_of_entry: "GBDOV".into(),
        border_control_post: None,
        arrives_at: "2026-12-03T08:00:00Z".into(),
        transport_mode: "ROAD".into(),
        goods_movement_reference: None,
        ched_reference: Some("CHEDP.GB.2026.1000001".into()),
        trader_flags: vec![],
        items: lines
            .iter()
            .zip(1..)
            .map(|(&(code, kg, gbp), line)| ConsignmentItemInput {
                line,
                commodity_code: code.into(),
                description: format!("goods under {code}"),
                quantity: 1,
                net_mass_kg: kg,
                gross_mass_kg: kg,
                value_gbp: gbp,
            })
            .collect(),
    }
}

fn consignment(origin: &str, lines: &[Line]) -> Consignment {
    input(origin, lines)
        .validate()
        .unwrap_or_else(|error| panic!("{error}"))
}

fn kinds(assessment: &RiskAssessment) -> Vec<CheckKind> {
    assessment.checks.iter().map(|check| check.kind).collect()
}

/// The first reference, counting up, that `agency` does or does not select at `rate`.
fn reference_where(agency: Agency, rate: u32, selected: bool) -> String {
    (0..)
        .map(|n| format!("CONS-TEST-{n:04}"))
        .find(|r| super::selection::selected_at_rate(agency.name(), r, rate) == selected)
        .unwrap_or_default()
}

#[test]
fn goods_of_british_origin_are_low_risk_for_the_sps_agencies() {
    let c = consignment(
        "GB",
        &[("02071410", 1000.0, 3000.0), ("01022910", 600.0, 1500.0)],
    );
    for agency in [Agency::Apha, Agency::PortHealth] {
        let assessment = agency.assess(&c);
        assert_eq!(assessment.risk_level, RiskLevel::Low, "{agency}");
        assert_eq!(assessment.btom_category, Some(RiskLevel::Low), "{agency}");
        assert!(assessment.checks.is_empty(), "{agency}");
    }
}

#[test]
fn animal_products_are_checked_on_site_at_the_rate_for_their_origin() {
    let mut c = consignment("BR", &[("02071410", 1000.0, 3000.0)]);
    c.reference = reference_where(Agency::Apha, 30, true);
    let selected = Agency::Apha.assess(&c);
    assert_eq!(selected.risk_level, RiskLevel::Medium);
    assert_eq!(selected.btom_category, Some(RiskLevel::Medium));
    assert_eq!(
        kinds(&selected),
        [
            CheckKind::Documentary,
            CheckKind::Identity,
            CheckKind::Physical
        ]
    );
    c.reference = reference_where(Agency::Apha, 30, false);
    let not_selected = Agency::Apha.assess(&c);
    assert_eq!(kinds(&not_selected), [CheckKind::Documentary]);
    // The same consignment, asked again, gets the same answer.
    assert_eq!(Agency::Apha.assess(&c), not_selected);
}

#[test]
fn a_trader_with_a_poor_sanitary_record_has_every_consignment_checked() {
    let mut c = consignment("FR", &[("02071410", 1000.0, 3000.0)]);
    c.importer = "GB714250836000".into();
    c.reference = reference_where(Agency::Apha, 5, false);
    let assessment = Agency::Apha.assess(&c);
    assert_eq!(assessment.risk_level, RiskLevel::High);
    assert!(kinds(&assessment).contains(&CheckKind::Physical));
    assert!(assessment
        .reasons
        .iter()
        .any(|r| r.contains("GB714250836000")));
}

#[test]
fn cut_flowers_and_regulated_produce_are_medium_risk_for_plant_health() {
    for code in ["06031100", "08081080", "12099180", "44032100"] {
        let c = consignment("KE", &[(code, 500.0, 2000.0)]);
        let assessment = Agency::PlantHealth.assess(&c);
        assert_eq!(assessment.risk_level, RiskLevel::Medium, "{code}");
        assert_eq!(assessment.btom_category, Some(RiskLevel::Medium), "{code}");
        assert_eq!(assessment.checks[0].kind, CheckKind::Documentary, "{code}");
    }
    let cereals = Agency::PlantHealth.assess(&consignment("FR", &[("10019900", 20_000.0, 4000.0)]));
    assert_eq!(cereals.risk_level, RiskLevel::Low);
    assert_eq!(cereals.btom_category, Some(RiskLevel::Low));
    assert!(cereals.checks.is_empty());
}

#[test]
fn groundnuts_from_a_controlled_origin_are_sampled_by_fsa_and_port_health() {
    let c = consignment("US", &[("12024200", 20_000.0, 30_000.0)]);
    let fsa = Agency::Fsa.assess(&c);
    assert_eq!(fsa.risk_level, RiskLevel::High);
    assert_eq!(kinds(&fsa), [CheckKind::Documentary, CheckKind::Sampling]);
    let port_health = Agency::PortHealth.assess(&c);
    assert_eq!(kinds(&port_health), [CheckKind::Sampling]);
    assert_eq!(port_health.checks[0].lines, fsa.checks[1].lines);

    let elsewhere = Agency::Fsa.assess(&consignment("AR", &[("12024200", 20_000.0, 30_000.0)]));
    assert_eq!(elsewhere.risk_level, RiskLevel::Medium);
    assert_eq!(kinds(&elsewhere), [CheckKind::Documentary]);

    let mut unnotified = c.clone();
    unnotified.ched_reference = None;
    let fsa = Agency::Fsa.assess(&unnotified);
    assert!(fsa.checks[0].reason.contains("CHED-D"), "{:?}", fsa.checks);
}

#[test]
fn border_force_scans_high_risk_routes_and_examines_traders_with_seizures() {
    let bananas = Agency::BorderForce.assess(&consignment("EC", &[("08039010", 20_000.0, 9000.0)]));
    assert_eq!(bananas.risk_level, RiskLevel::High);
    assert_eq!(kinds(&bananas), [CheckKind::Scan]);
    assert_eq!(bananas.checks[0].locations, ["GBSEV1", "GBDOV"]);

    let mut trainers = consignment("VN", &[("64041100", 900.0, 11_000.0)]);
    trainers.importer = "GB266719370000".into();
    let assessment = Agency::BorderForce.assess(&trainers);
    assert_eq!(kinds(&assessment), [CheckKind::Physical]);
    assert!(assessment.checks[0].reason.contains("SZ-2026-004417"));

    let cheap = Agency::BorderForce.assess(&consignment("CN", &[("85171300", 1000.0, 300.0)]));
    assert_eq!(cheap.risk_level, RiskLevel::Medium);
    assert_eq!(kinds(&cheap), [CheckKind::Documentary]);
}

#[test]
fn hmrc_checks_procedures_excise_goods_and_values() {
    let mut warehoused = consignment("FR", &[("22042109", 9000.0, 40_000.0)]);
    warehoused.procedure_code = "7100".into();
    let assessment = Agency::HmrcCustoms.assess(&warehoused);
    assert_eq!(assessment.risk_level, RiskLevel::Medium);
    assert!(
        assessment.checks[0].lines.is_empty(),
        "the procedure concerns every line"
    );
    assert!(assessment.reasons[0].contains("CUSTOMS_WAREHOUSE_AUTHORISATION"));
    warehoused
        .trader_flags
        .push("CUSTOMS_WAREHOUSE_AUTHORISATION".into());
    let authorised = Agency::HmrcCustoms.assess(&warehoused);
    assert!(authorised
        .reasons
        .iter()
        .all(|r| !r.contains("authorisation")));
    assert_eq!(
        authorised.checks[0].lines,
        [1],
        "the wine is still excise goods"
    );

    // AEO certification lowers the share of excise consignments examined.
    let mut wine = consignment("FR", &[("22042109", 9000.0, 40_000.0)]);
    wine.reference = (0..)
        .map(|n| format!("CONS-TEST-{n:04}"))
        .find(|r| {
            let select = |rate| super::selection::selected_at_rate("hmrc-customs", r, rate);
            select(20) && !select(5)
        })
        .unwrap_or_default();
    assert!(kinds(&Agency::HmrcCustoms.assess(&wine)).contains(&CheckKind::Physical));
    wine.trader_flags.push("AEO_CERTIFIED".into());
    assert_eq!(
        kinds(&Agency::HmrcCustoms.assess(&wine)),
        [CheckKind::Documentary]
    );

    let cheap_trainers =
        Agency::HmrcCustoms.assess(&consignment("VN", &[("64041100", 900.0, 900.0)]));
    assert!(cheap_trainers.reasons[0].contains("undervaluation"));
}

#[test]
fn a_consignment_of_999_lines_gets_one_check_of_each_kind() {
    let lines: Vec<Line> = (0..999).map(|_| ("12024200", 20.0, 30.0)).collect();
    let c = consignment("US", &lines);
    for agency in Agency::all() {
        let assessment = agency.assess(&c);
        let mut kinds = kinds(&assessment);
        kinds.dedup();
        assert_eq!(kinds.len(), assessment.checks.len(), "{agency}");
    }
    let fsa = Agency::Fsa.assess(&c);
    assert_eq!(fsa.checks[1].lines.len(), 999);
    assert_eq!(fsa.reasons.len(), 1, "{:?}", fsa.reasons);
}

#[test]
fn checks_of_one_kind_join_into_one() {
    // No CHED and products of animal origin: both documentary checks become one.
    let mut c = consignment(
        "BR",
        &[("02071410", 1000.0, 3000.0), ("04061030", 500.0, 4000.0)],
    );
    c.ched_reference = None;
    let assessment = Agency::Apha.assess(&c);
    let documentary: Vec<_> = assessment
        .checks
        .iter()
        .filter(|check| check.kind == CheckKind::Documentary)
        .collect();
    assert_eq!(documentary.len(), 1);
    assert_eq!(documentary[0].lines, [1, 2]);
    assert!(documentary[0].reason.contains("IPAFFS"));
    assert!(documentary[0].reason.contains("health certificate"));
}

/// Breaks one field of a valid input.
type Spoil = fn(&mut ConsignmentAssessmentInput);

#[test]
fn validation_names_the_field_and_rule() {
    let cases: [(Spoil, &str, &str); 6] = [
        (
            |c| c.arrives_at = "2026-13-03T08:00:00Z".into(),
            "consignment.arrivesAt",
            "TIMESTAMP_FORMAT",
        ),
        (
            |c| c.procedure_code = "40".into(),
            "consignment.procedureCode",
            "PROCEDURE_CODE_FORMAT",
        ),
        (
            |c| c.transport_mode = "CAMEL".into(),
            "consignment.transportMode",
            "TRANSPORT_MODE_UNKNOWN",
        ),
        (
            |c| c.items[0].net_mass_kg = f64::NAN,
            "consignment.items[0].netMassKg",
            "NUMBER_RANGE",
        ),
        (
            |c| c.items[1].line = 1,
            "consignment.items[1].line",
            "LINE_REPEATED",
        ),
        (|c| c.items.clear(), "consignment.items", "ITEM_COUNT"),
    ];
    for (spoil, field, rule) in cases {
        let mut input = input("FR", &[("84713000", 2.0, 500.0), ("84713000", 2.0, 500.0)]);
        spoil(&mut input);
        match input.validate() {
            Err(crate::department_error::DepartmentError::InvalidArgument {
                field: f,
                rule: r,
                ..
            }) => assert_eq!((f.as_str(), r), (field, rule)),
            other => panic!("{field}: {other:?}"),
        }
    }
}
