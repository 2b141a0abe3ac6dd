//! `GET /api/2.1/unity-catalog/explain`: the emulator's teaching endpoint. Callers explain
//! their own decisions; metastore admins may explain anyone's.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::extract::{AppState, Params, Scoped};
use crate::error::{ApiError, ApiResult};

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
    let out = state
        .store
        .read(move |conn| {
            let (principal, full_name) = (p.principal.as_deref(), p.full_name.as_deref());
            crate::explain::explain_as(conn, &caller, principal, &action, &sec_type, full_name)
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
