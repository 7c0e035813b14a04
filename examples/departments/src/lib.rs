//! Example UK government department subgraphs (Apollo Federation v2, async-graphql, actix-web).
//!
//! Each department owns its records (seeded, in memory) and shares entities with the others:
//! `Person @key(fields: "nino")`, `Company @key(fields: "companyNumber")` and
//! `Trader @key(fields: "eori")`, so one query through the hub spans several departments.
//! Each also receives the life-event notifications it needs, applying every idempotency key once.
//! The receiving mutations are for the hub's tell-us-once delivery only, which proves itself
//! with a token the hub signs (see [`hub_identity`] and [`DepartmentOptions`]).
//!
//! Six border agencies ([`agencies`]) are subgraphs too, outside the federated graph: the hub
//! asks each directly for its risk assessment of a declared consignment.

pub mod agencies;
pub mod border_force;
pub mod businesses;
pub mod civil_service_pension;
pub mod companies_house;
pub mod department_error;
pub mod dvla;
pub mod dwp;
pub mod hmrc;
pub mod hub_identity;
pub mod local_council;
pub use tellonce_identifiers as identifiers;
pub mod notification_journal;
pub mod passport_office;
pub mod population;
mod server;
pub mod shared_types;
mod subgraph;
pub mod veterans_uk;

pub use agencies::{start_agency, Agency};
pub use hub_identity::{caller, Caller};
pub use server::RunningDepartment;
pub use subgraph::Subgraph;

use async_graphql::SDLExportOptions;
use std::fmt;
use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One example department subgraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Department {
    Hmrc,
    CompaniesHouse,
    Dwp,
    Dvla,
    PassportOffice,
    BorderForce,
    LocalCouncil,
    VeteransUk,
    CivilServicePension,
}

const ALL: [Department; 9] = [
    Department::Hmrc,
    Department::CompaniesHouse,
    Department::Dwp,
    Department::Dvla,
    Department::PassportOffice,
    Department::BorderForce,
    Department::LocalCouncil,
    Department::VeteransUk,
    Department::CivilServicePension,
];

impl Department {
    /// Every department, in a stable order.
    pub fn all() -> &'static [Department] {
        &ALL
    }

    /// The subgraph name, e.g. `companies-house`.
    pub fn name(self) -> &'static str {
        match self {
            Department::Hmrc => "hmrc",
            Department::CompaniesHouse => "companies-house",
            Department::Dwp => "dwp",
            Department::Dvla => "dvla",
            Department::PassportOffice => "passport-office",
            Department::BorderForce => "border-force",
            Department::LocalCouncil => "local-council",
            Department::VeteransUk => "veterans-uk",
            Department::CivilServicePension => "civil-service-pension",
        }
    }

    /// The department's full name, e.g. `HM Revenue & Customs`.
    pub fn title(self) -> &'static str {
        match self {
            Department::Hmrc => "HM Revenue & Customs",
            Department::CompaniesHouse => "Companies House",
            Department::Dwp => "Department for Work and Pensions",
            Department::Dvla => "Driver and Vehicle Licensing Agency",
            Department::PassportOffice => "HM Passport Office",
            Department::BorderForce => "Border Force",
            Department::LocalCouncil => "Local council",
            Department::VeteransUk => "Veterans UK",
            Department::CivilServicePension => "Civil Service Pension Scheme",
        }
    }

    /// The department whose subgraph name is `name`.
    pub fn from_name(name: &str) -> Option<Department> {
        ALL.iter().copied().find(|d| d.name() == name)
    }

    /// The Federation v2 SDL, exactly as the running subgraph returns it from `_service { sdl }`.
    pub fn sdl(self) -> String {
        let options = SDLExportOptions::new().federation().compose_directive();
        match self {
            Department::Hmrc => hmrc::schema().sdl_with_options(options),
            Department::CompaniesHouse => companies_house::schema().sdl_with_options(options),
            Department::Dwp => dwp::schema().sdl_with_options(options),
            Department::Dvla => dvla::schema().sdl_with_options(options),
            Department::PassportOffice => passport_office::schema().sdl_with_options(options),
            Department::BorderForce => border_force::schema().sdl_with_options(options),
            Department::LocalCouncil => local_council::schema().sdl_with_options(options),
            Department::VeteransUk => veterans_uk::schema().sdl_with_options(options),
            Department::CivilServicePension => {
                civil_service_pension::schema().sdl_with_options(options)
            }
        }
    }
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a department (or agency) trusts the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentOptions {
    /// The hub's JWKS (`http://…/.well-known/jwks.json`), fetched on first need to verify the
    /// hub identity tokens of requests. `None`: the department cannot verify, so with
    /// `require_hub_token` it refuses every receiving mutation.
    pub hub_jwks_url: Option<String>,
    /// The issuer (`iss`) the hub signs its tokens as.
    pub hub_issuer: String,
    /// Refuse receiving mutations that carry no verified token of the hub's delivery.
    /// When `false` (the default, for tests that call departments directly), a request
    /// without a token may call them, but a token that is sent must verify (when the
    /// department has the JWKS URL).
    pub require_hub_token: bool,
}

impl Default for DepartmentOptions {
    fn default() -> Self {
        DepartmentOptions {
            hub_jwks_url: None,
            hub_issuer: hub_identity::DEFAULT_HUB_ISSUER.to_string(),
            require_hub_token: false,
        }
    }
}

/// Start `department` with freshly seeded records on `listener` (bind `127.0.0.1:0` in tests),
/// with the default [`DepartmentOptions`]. Must be called from within a tokio runtime.
pub async fn start(
    department: Department,
    listener: TcpListener,
) -> std::io::Result<RunningDepartment> {
    start_with(department, listener, DepartmentOptions::default()).await
}

/// Start `department` with freshly seeded records on `listener`, trusting the hub as
/// `options` say. Must be called from within a tokio runtime.
pub async fn start_with(
    department: Department,
    listener: TcpListener,
    options: DepartmentOptions,
) -> std::io::Result<RunningDepartment> {
    match department {
        Department::Hmrc => server::serve(department, hmrc::schema(), listener, options),
        Department::CompaniesHouse => {
            server::serve(department, companies_house::schema(), listener, options)
        }
        Department::Dwp => server::serve(department, dwp::schema(), listener, options),
        Department::Dvla => server::serve(department, dvla::schema(), listener, options),
        Department::PassportOffice => {
            server::serve(department, passport_office::schema(), listener, options)
        }
        Department::BorderForce => {
            server::serve(department, border_force::schema(), listener, options)
        }
        Department::LocalCouncil => {
            server::serve(department, local_council::schema(), listener, options)
        }
        Department::VeteransUk => {
            server::serve(department, veterans_uk::schema(), listener, options)
        }
        Department::CivilServicePension => server::serve(
            department,
            civil_service_pension::schema(),
            listener,
            options,
        ),
    }
}

/// Lock a department's records. A panic while holding the lock cannot leave them half
/// updated (every change is applied after validation), so a poisoned lock is still used.
pub(crate) fn lock_records<T>(records: &Mutex<T>) -> MutexGuard<'_, T> {
    records.lock().unwrap_or_else(PoisonError::into_inner)
}
