//! Which example subgraph a server speaks for: a department (federated into the hub's graph)
//! or a border agency (asked directly by the hub for risk assessments).

use crate::agencies::Agency;
use crate::Department;
use std::fmt;

/// A department or a border agency. Its name is the audience of the hub's identity tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subgraph {
    Department(Department),
    Agency(Agency),
}

impl Subgraph {
    /// The subgraph name, e.g. `companies-house` or `plant-health`.
    pub fn name(self) -> &'static str {
        match self {
            Subgraph::Department(department) => department.name(),
            Subgraph::Agency(agency) => agency.name(),
        }
    }

    /// The organisation's full name.
    pub fn title(self) -> &'static str {
        match self {
            Subgraph::Department(department) => department.title(),
            Subgraph::Agency(agency) => agency.title(),
        }
    }
}

impl From<Department> for Subgraph {
    fn from(department: Department) -> Self {
        Subgraph::Department(department)
    }
}

impl From<Agency> for Subgraph {
    fn from(agency: Agency) -> Self {
        Subgraph::Agency(agency)
    }
}

// So code that finds a running department by comparing it with a `Department` keeps working.
impl PartialEq<Department> for Subgraph {
    fn eq(&self, other: &Department) -> bool {
        *self == Subgraph::Department(*other)
    }
}

impl PartialEq<Agency> for Subgraph {
    fn eq(&self, other: &Agency) -> bool {
        *self == Subgraph::Agency(*other)
    }
}

impl fmt::Display for Subgraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
