//! Border Force: consignments arriving at UK ports, seizures, and each trader's (EORI)
//! movements. Read-only: Border Force receives no life events.

use crate::department_error::{parse_argument, DepartmentError, ForGraphql};
use crate::identifiers::parse_eori;
use crate::population::seed_date;
use crate::shared_types::Date;
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, Object, Schema, SimpleObject,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::sync::Arc;

/// The Border Force subgraph schema.
pub type BorderForceSchema = Schema<Query, EmptyMutation, EmptySubscription>;

type Store = Arc<BorderRecords>;

/// A new Border Force subgraph over freshly seeded records.
pub fn schema() -> BorderForceSchema {
    let store: Store = Arc::new(seed_records());
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(store)
        .enable_federation()
        .finish()
}

fn store<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// A UK port of entry, by UN/LOCODE.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct Port {
    /// UN/LOCODE, e.g. `GBDOV`.
    pub code: String,
    pub name: String,
}

const PORTS: &[(&str, &str)] = &[
    ("GBDOV", "Dover"),
    ("GBFXT", "Felixstowe"),
    ("GBSOU", "Southampton"),
    ("GBLGP", "London Gateway"),
    ("GBIMM", "Immingham"),
    ("GBLHR", "London Heathrow Airport"),
];

fn port(code: &str) -> Port {
    let name = PORTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
        .unwrap_or("Unknown port");
    Port {
        code: code.to_string(),
        name: name.to_string(),
    }
}

fn parse_port_code(field: &str, input: &str) -> Result<String, DepartmentError> {
    let code = input.trim().to_uppercase();
    if PORTS.iter().any(|(c, _)| *c == code) {
        Ok(code)
    } else {
        Err(DepartmentError::argument(
            field,
            "PORT_CODE_UNKNOWN",
            format!(
                "must be the UN/LOCODE of a port Border Force staffs ({})",
                PORTS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
            ),
        ))
    }
}

/// How goods crossed the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TransportMode {
    /// Roll-on roll-off: accompanied lorries and trailers on ferries.
    Roro,
    Container,
    AirFreight,
}

/// Where a consignment is in border clearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConsignmentStatus {
    PreLodged,
    Arrived,
    HeldForInspection,
    Cleared,
    Seized,
}

/// One declared consignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsignmentRecord {
    /// Movement reference number.
    pub reference: &'static str,
    pub eori: &'static str,
    pub port_code: &'static str,
    pub transport_mode: TransportMode,
    pub origin_country: &'static str,
    pub goods_description: &'static str,
    pub commodity_codes: &'static [&'static str],
    pub declared_value_pence: i32,
    pub arrived_at: Option<DateTime<Utc>>,
    pub status: ConsignmentStatus,
}

/// One seizure of goods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeizureRecord {
    pub reference: &'static str,
    pub consignment_reference: Option<&'static str>,
    pub port_code: &'static str,
    pub goods_description: &'static str,
    pub reason: &'static str,
    pub seized_at: DateTime<Utc>,
}

/// Everything Border Force holds (read-only).
#[derive(Debug)]
pub struct BorderRecords {
    pub consignments: Vec<ConsignmentRecord>,
    pub seizures: Vec<SeizureRecord>,
}

/// A consignment declared for import.
#[derive(Debug, Clone)]
pub struct Consignment(ConsignmentRecord);

#[Object]
impl Consignment {
    /// Movement reference number.
    async fn reference(&self) -> &str {
        self.0.reference
    }

    /// The importer.
    async fn trader(&self) -> Trader {
        Trader {
            eori: self.0.eori.to_string(),
        }
    }

    async fn port(&self) -> Port {
        port(self.0.port_code)
    }

    async fn transport_mode(&self) -> TransportMode {
        self.0.transport_mode
    }

    /// ISO 3166-1 alpha-2 country of origin.
    async fn origin_country(&self) -> &str {
        self.0.origin_country
    }

    async fn goods_description(&self) -> &str {
        self.0.goods_description
    }

    /// Ten-digit UK Global Tariff commodity codes.
    async fn commodity_codes(&self) -> Vec<&str> {
        self.0.commodity_codes.to_vec()
    }

    async fn declared_value_pence(&self) -> i32 {
        self.0.declared_value_pence
    }

    async fn arrived_at(&self) -> Option<DateTime<Utc>> {
        self.0.arrived_at
    }

    async fn status(&self) -> ConsignmentStatus {
        self.0.status
    }

    /// Seizures made from this consignment.
    async fn seizures(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Seizure>> {
        Ok(store(ctx)?
            .seizures
            .iter()
            .filter(|s| s.consignment_reference == Some(self.0.reference))
            .cloned()
            .map(Seizure)
            .collect())
    }
}

/// Goods seized at the border.
#[derive(Debug, Clone)]
pub struct Seizure(SeizureRecord);

#[Object]
impl Seizure {
    async fn reference(&self) -> &str {
        self.0.reference
    }

    async fn port(&self) -> Port {
        port(self.0.port_code)
    }

    async fn goods_description(&self) -> &str {
        self.0.goods_description
    }

    async fn reason(&self) -> &str {
        self.0.reason
    }

    async fn seized_at(&self) -> DateTime<Utc> {
        self.0.seized_at
    }

    /// The consignment the goods were in; absent for goods seized from passengers.
    async fn consignment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Consignment>> {
        Ok(self.0.consignment_reference.and_then(|reference| {
            store(ctx)
                .ok()?
                .consignments
                .iter()
                .find(|c| c.reference == reference)
                .cloned()
                .map(Consignment)
        }))
    }
}

/// An importer or exporter, as Border Force sees them: their movements.
#[derive(Debug, Clone)]
pub struct Trader {
    eori: String,
}

#[Object]
impl Trader {
    async fn eori(&self) -> &str {
        &self.eori
    }

    /// The trader's consignments, most recent arrival first.
    async fn consignments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Consignment>> {
        let mut found: Vec<ConsignmentRecord> = store(ctx)?
            .consignments
            .iter()
            .filter(|c| c.eori == self.eori)
            .cloned()
            .collect();
        found.sort_by_key(|x| std::cmp::Reverse(x.arrived_at));
        Ok(found.into_iter().map(Consignment).collect())
    }

    /// Seizures from the trader's consignments.
    async fn seizures(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Seizure>> {
        let records = store(ctx)?;
        Ok(records
            .seizures
            .iter()
            .filter(|s| {
                s.consignment_reference.is_some_and(|reference| {
                    records
                        .consignments
                        .iter()
                        .any(|c| c.reference == reference && c.eori == self.eori)
                })
            })
            .cloned()
            .map(Seizure)
            .collect())
    }
}

/// Border Force's queries.
pub struct Query;

#[Object]
impl Query {
    /// A consignment by movement reference number.
    async fn consignment(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> async_graphql::Result<Option<Consignment>> {
        let wanted = reference.trim().to_uppercase();
        Ok(store(ctx)?
            .consignments
            .iter()
            .find(|c| c.reference == wanted)
            .cloned()
            .map(Consignment))
    }

    /// Consignments that arrived at a port on a day (UTC), in arrival order.
    async fn arrivals(
        &self,
        ctx: &Context<'_>,
        port_code: String,
        on: Date,
    ) -> async_graphql::Result<Vec<Consignment>> {
        let code = parse_port_code("portCode", &port_code).for_graphql()?;
        let mut found: Vec<ConsignmentRecord> = store(ctx)?
            .consignments
            .iter()
            .filter(|c| c.port_code == code && c.arrived_at.is_some_and(|t| t.date_naive() == on.0))
            .cloned()
            .collect();
        found.sort_by_key(|c| c.arrived_at);
        Ok(found.into_iter().map(Consignment).collect())
    }

    /// Every consignment a trader has declared, most recent arrival first.
    async fn consignments_by_eori(
        &self,
        ctx: &Context<'_>,
        eori: String,
    ) -> async_graphql::Result<Vec<Consignment>> {
        let eori = parse_argument("eori", &eori, parse_eori).for_graphql()?;
        Trader { eori }.consignments(ctx).await
    }

    /// Every consignment declared through a port.
    async fn consignments_at_port(
        &self,
        ctx: &Context<'_>,
        port_code: String,
    ) -> async_graphql::Result<Vec<Consignment>> {
        let code = parse_port_code("portCode", &port_code).for_graphql()?;
        Ok(store(ctx)?
            .consignments
            .iter()
            .filter(|c| c.port_code == code)
            .cloned()
            .map(Consignment)
            .collect())
    }

    /// Seizures, optionally at one port, most recent first.
    async fn seizures(
        &self,
        ctx: &Context<'_>,
        port_code: Option<String>,
    ) -> async_graphql::Result<Vec<Seizure>> {
        let code = match port_code {
            Some(code) => Some(parse_port_code("portCode", &code).for_graphql()?),
            None => None,
        };
        let mut found: Vec<SeizureRecord> = store(ctx)?
            .seizures
            .iter()
            .filter(|s| code.as_deref().is_none_or(|c| s.port_code == c))
            .cloned()
            .collect();
        found.sort_by_key(|x| std::cmp::Reverse(x.seized_at));
        Ok(found.into_iter().map(Seizure).collect())
    }

    /// Every port Border Force staffs.
    async fn ports(&self) -> Vec<Port> {
        PORTS.iter().map(|(code, _)| port(code)).collect()
    }

    #[graphql(entity)]
    async fn find_trader_by_eori(&self, eori: String) -> async_graphql::Result<Trader> {
        let eori = parse_argument("eori", &eori, parse_eori).for_graphql()?;
        Ok(Trader { eori })
    }
}

fn at(date: NaiveDate, hour: u32, minute: u32) -> Option<DateTime<Utc>> {
    date.and_hms_opt(hour, minute, 0)
        .map(|t| Utc.from_utc_datetime(&t))
}

fn seed_records() -> BorderRecords {
    use ConsignmentStatus::*;
    use TransportMode::*;
    let consignments = vec![
        ConsignmentRecord {
            reference: "26GB7Q3K9M2X4T8RA1",
            eori: "GB351608216000",
            port_code: "GBDOV",
            transport_mode: Roro,
            origin_country: "ES",
            goods_description: "Fresh sweet oranges, 22 pallets",
            commodity_codes: &["0805102200"],
            declared_value_pence: 1_874_000,
            arrived_at: at(seed_date(2026, 11, 24), 5, 42),
            status: Cleared,
        },
        ConsignmentRecord {
            reference: "26GB4H8N2P6W1C5LB7",
            eori: "GB351608216000",
            port_code: "GBIMM",
            transport_mode: Roro,
            origin_country: "NL",
            goods_description: "Onions and shallots, fresh, 18 tonnes",
            commodity_codes: &["0703101900"],
            declared_value_pence: 912_500,
            arrived_at: at(seed_date(2026, 11, 24), 14, 10),
            status: Cleared,
        },
        ConsignmentRecord {
            reference: "26GB9D2F7J4K8S3VC2",
            eori: "GB351608216000",
            port_code: "GBFXT",
            transport_mode: Container,
            origin_country: "PE",
            goods_description: "Avocados, fresh, one 40ft reefer container",
            commodity_codes: &["0804400010"],
            declared_value_pence: 3_260_000,
            arrived_at: at(seed_date(2026, 11, 27), 9, 5),
            status: HeldForInspection,
        },
        ConsignmentRecord {
            reference: "26GB1X5R8T3Y6U9PD4",
            eori: "GB266719370000",
            port_code: "GBFXT",
            transport_mode: Container,
            origin_country: "CN",
            goods_description: "Cotton T-shirts, knitted, 14,400 units",
            commodity_codes: &["6109100010"],
            declared_value_pence: 2_150_000,
            arrived_at: at(seed_date(2026, 11, 27), 11, 48),
            status: Cleared,
        },
        ConsignmentRecord {
            reference: "26GB6B3M7N1Q4Z8WE6",
            eori: "GB266719370000",
            port_code: "GBLGP",
            transport_mode: Container,
            origin_country: "CN",
            goods_description: "Portable laptop computers, 600 units",
            commodity_codes: &["8471300000"],
            declared_value_pence: 19_800_000,
            arrived_at: None,
            status: PreLodged,
        },
        ConsignmentRecord {
            reference: "26GB2G6K1L5V9H3JF8",
            eori: "GB266719370000",
            port_code: "GBSOU",
            transport_mode: Container,
            origin_country: "VN",
            goods_description: "Sports footwear with rubber soles, 1,840 pairs",
            commodity_codes: &["6404110000"],
            declared_value_pence: 1_104_000,
            arrived_at: at(seed_date(2026, 11, 18), 16, 20),
            status: Seized,
        },
        ConsignmentRecord {
            reference: "26GB8E4C9A2D6F1GG3",
            eori: "XI304287518000",
            port_code: "GBLHR",
            transport_mode: AirFreight,
            origin_country: "TR",
            goods_description: "Combed cotton yarn, 2.4 tonnes",
            commodity_codes: &["5205230000"],
            declared_value_pence: 1_420_000,
            arrived_at: at(seed_date(2026, 11, 26), 7, 35),
            status: Cleared,
        },
    ];
    let seizures = vec![
        SeizureRecord {
            reference: "SZ-2026-004417",
            consignment_reference: Some("26GB2G6K1L5V9H3JF8"),
            port_code: "GBSOU",
            goods_description: "1,840 pairs of trainers bearing counterfeit trade marks",
            reason: "Suspected infringement of registered trade marks (Customs and Excise Management Act 1979, s.139)",
            seized_at: at(seed_date(2026, 11, 20), 10, 15).unwrap_or_default(),
        },
        SeizureRecord {
            reference: "SZ-2026-004502",
            consignment_reference: None,
            port_code: "GBLHR",
            goods_description: "4,800 cigarettes above the personal allowance",
            reason: "Excise goods over the traveller's allowance held for a commercial purpose",
            seized_at: at(seed_date(2026, 11, 26), 21, 40).unwrap_or_default(),
        },
    ];
    BorderRecords {
        consignments,
        seizures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_references_are_consistent() {
        let records = seed_records();
        for c in &records.consignments {
            assert!(parse_eori(c.eori).is_ok());
            assert!(PORTS.iter().any(|(code, _)| *code == c.port_code));
            assert_eq!(c.reference.len(), 18);
            assert!(c.commodity_codes.iter().all(|code| code.len() == 10));
        }
        for s in &records.seizures {
            if let Some(reference) = s.consignment_reference {
                assert!(records
                    .consignments
                    .iter()
                    .any(|c| c.reference == reference));
            }
        }
    }
}
