//! Users, groups and service principals: who may change them.

use crate::authz::{self, Action, Allowed, Caller};
use crate::error::{ApiError, ApiResult};

/// SCIM writes: workspace and account admins (the refusal in SCIM's error shape).
pub fn may_manage(caller: &Caller) -> ApiResult<Allowed> {
    authz::require(caller, &Action::ManageIdentities, &[]).map_err(|_| {
        ApiError::denied("Only workspace admins and account admins may change users, groups and service principals.")
            .scim()
    })
}
