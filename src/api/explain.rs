//! `GET /api/2.1/unity-catalog/explain`: the emulator's teaching endpoint. Callers explain
//! their own decisions; metastore admins may explain anyone's.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::extract::{AppState, Params, Scoped};
use crate::authz::{self, Action};
use crate::error::{ApiError, ApiResult};
use crate::store::principals;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    principal: Option<String>,
    action: Option<String>,
    securable_type: Option<String>,
    full_name: Option<String>,
}

pub async fn explain(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ExplainParams>,
) -> ApiResult<HttpResponse> {
    let action = p.action.filter(|a| !a.is_empty()).ok_or_else(|| ApiError::invalid("action", "is required"))?;
    let sec_type = p.securable_type.ok_or_else(|| ApiError::invalid("securable_type", "is required"))?;
    let caller = scoped.caller;
    let principal = p.principal.filter(|n| !n.is_empty() && *n != caller.name);
    if principal.is_some() && authz::require(&caller, &Action::ExplainForOthers, &[]).is_err() {
        return Err(ApiError::denied("Only metastore admins may explain the decisions of other principals."));
    }
    let out = state
        .store
        .read(move |conn| {
            let subject = match &principal {
                Some(name) => principals::subject(conn, name, caller.workspace_id, caller.metastore.clone())?,
                None => (*caller).clone(),
            };
            let hide_tables = !caller.is_metastore_admin();
            crate::explain::explain(conn, &subject, &action, &sec_type, p.full_name.as_deref(), hide_tables)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsParams {
    securable_type: Option<String>,
}

/// `GET /api/2.1/unity-catalog/explain/actions[?securable_type=]`: every action name the
/// explain endpoint accepts (operations, then privileges), for one securable type or all.
pub async fn actions(_auth: super::extract::Auth, Params(p): Params<ActionsParams>) -> ApiResult<HttpResponse> {
    use crate::domain::securable::{SecTypeSpelling, SecurableKind};
    let only = match p.securable_type.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match SecurableKind::parse_spelling(t) {
            Some(SecTypeSpelling::Modelled(k)) => Some(k),
            _ => {
                return Err(ApiError::invalid("securable_type", format!("unknown or unsupported securable type {t:?}")))
            }
        },
    };
    let actions = crate::authz::explain::actions_for(only);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "actions": actions })))
}
