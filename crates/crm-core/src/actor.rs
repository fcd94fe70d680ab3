//! Who is acting: the signed-in user's id and role. Every query on CRM data takes one.

use uuid::Uuid;

pub use crate::vocab::Role;

#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub role: Role,
    pub name: String,
    pub email: String,
    /// Where the request came from (set by the web layer): a refusal is audited with it.
    pub origin: Option<Origin>,
}

/// The client address and the route of the request an actor is acting in.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: String,
    /// `METHOD /path`.
    pub route: String,
}

impl Actor {
    /// Admins and managers read every record; reps only their own.
    pub fn reads_all(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Manager)
    }
    /// Admins change every record; managers and reps only their own.
    pub fn writes_all(&self) -> bool {
        self.role == Role::Admin
    }
    /// May set the owner of a record to someone else.
    pub fn may_assign(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Manager)
    }
}
