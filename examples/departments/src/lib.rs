//! Example UK government department subgraphs (Apollo Federation v2, async-graphql, actix-web).
//!
//! Each department owns its records (seeded, in memory) and shares entities with the others:
//! `Person @key(fields: "nino")`, `Company @key(fields: "companyNumber")` and
//! `Trader @key(fields: "eori")`, so one query through the hub spans several departments.
//! Each also receives the life-event notifications it needs, applying every idempotency key once.

pub mod border_force;
pub mod businesses;
pub mod companies_house;
pub mod department_error;
pub mod dvla;
pub mod dwp;
pub mod hmrc;
pub use tellonce_identifiers as identifiers;
pub mod notification_journal;
pub mod passport_office;
pub mod population;
mod server;
pub mod shared_types;

pub use server::RunningDepartment;

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
}

const ALL: [Department; 6] = [
    Department::Hmrc,
    Department::CompaniesHouse,
    Department::Dwp,
    Department::Dvla,
    Department::PassportOffice,
    Department::BorderForce,
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
        }
    }
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Start `department` with freshly seeded records on `listener` (bind `127.0.0.1:0` in tests).
/// Must be called from within a tokio runtime.
pub async fn start(
    department: Department,
    listener: TcpListener,
) -> std::io::Result<RunningDepartment> {
    match department {
        Department::Hmrc => server::serve(department, hmrc::schema(), listener),
        Department::CompaniesHouse => {
            server::serve(department, companies_house::schema(), listener)
        }
        Department::Dwp => server::serve(department, dwp::schema(), listener),
        Department::Dvla => server::serve(department, dvla::schema(), listener),
        Department::PassportOffice => {
            server::serve(department, passport_office::schema(), listener)
        }
        Department::BorderForce => server::serve(department, border_force::schema(), listener),
    }
}

/// Lock a department's records. A panic while holding the lock cannot leave them half
/// updated (every change is applied after validation), so a poisoned lock is still used.
pub(crate) fn lock_records<T>(records: &Mutex<T>) -> MutexGuard<'_, T> {
    records.lock().unwrap_or_else(PoisonError::into_inner)
}
