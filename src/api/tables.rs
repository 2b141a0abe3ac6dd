//! Tables, views and table summaries.

use crate::domain::stored_json::StoredJson;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::catalogs::{BrowseParams, ListParams};
use super::extract::{parse_query, path_param, qbool, qint, AppState, Body, Params, Scoped};
use super::listing::{Listing, PageArgs, Shown};
use super::ok_empty;
use crate::domain::names::{Ident, TableName};
use crate::error::ApiResult;
use crate::ops;
use crate::ops::tables::{required, CreateTable, TableSpec, TableUpdate, UpdateTable};
use crate::store::tables::TableRow;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TableInfo {
    name: String,
    catalog_name: String,
    schema_name: String,
    full_name: String,
    table_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_source_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::ops::tables::ColumnInfo>>)]
    columns: Option<StoredJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_credential_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    view_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    properties: Option<StoredJson>,
    table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    browse_only: Option<bool>,
    metastore_id: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<TableRow> for TableInfo {
    fn from(t: TableRow) -> Self {
        TableInfo {
            full_name: t.full_name(),
            name: t.name,
            catalog_name: t.parent.catalog_name,
            schema_name: t.parent.schema_name,
            table_type: t.table_type,
            data_source_format: t.data_source_format,
            columns: t.columns,
            storage_location: t.storage_location,
            storage_credential_name: t.storage_credential_name,
            view_definition: t.view_definition,
            sql_path: t.sql_path,
            comment: t.comment,
            owner: t.owner,
            properties: t.properties,
            table_id: t.id,
            browse_only: None,
            metastore_id: t.parent.metastore_id,
            created_at: t.created_at,
            created_by: t.created_by,
            updated_at: t.updated_at,
            updated_by: t.updated_by,
        }
    }
}

impl TableInfo {
    /// About the length of this table's JSON (a little more: field names and punctuation
    /// are counted generously), to size the answer's buffer once.
    fn wire_size(&self) -> usize {
        let strings = [&self.name, &self.catalog_name, &self.schema_name, &self.full_name, &self.table_type]
            .into_iter()
            .chain([&self.owner, &self.table_id, &self.metastore_id, &self.created_by, &self.updated_by])
            .map(String::len)
            .sum::<usize>();
        let optional = [
            &self.data_source_format,
            &self.storage_location,
            &self.storage_credential_name,
            &self.view_definition,
            &self.sql_path,
            &self.comment,
        ]
        .into_iter()
        .map(|o| o.as_ref().map_or(0, String::len))
        .sum::<usize>();
        let json = [&self.columns, &self.properties]
            .into_iter()
            .map(|j| j.as_ref().map_or(0, |j| j.get().len()))
            .sum::<usize>();
        // Field names, quotes, separators and the four numbers come to about 400 bytes.
        400 + strings + optional + json
    }

    /// This table's JSON, byte for byte what its `Serialize` writes (a property test checks),
    /// without `serde_json`'s byte-by-byte escaping of every key and value (see
    /// [`super::json_object`]): getTable's answer, and each table of a listTables page.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        // Every field by name: a field added to the struct and not written here does not compile.
        let TableInfo {
            name,
            catalog_name,
            schema_name,
            full_name,
            table_type,
            data_source_format,
            columns,
            storage_location,
            storage_credential_name,
            view_definition,
            sql_path,
            comment,
            owner,
            properties,
            table_id,
            browse_only,
            metastore_id,
            created_at,
            created_by,
            updated_at,
            updated_by,
        } = self;
        let mut o = super::json_object::JsonObject::begin(out);
        o.str("name", name);
        o.str("catalog_name", catalog_name);
        o.str("schema_name", schema_name);
        o.str("full_name", full_name);
        o.str("table_type", table_type);
        o.opt_str("data_source_format", data_source_format.as_deref());
        if let Some(columns) = columns {
            o.raw("columns", columns.get());
        }
        o.opt_str("storage_location", storage_location.as_deref());
        o.opt_str("storage_credential_name", storage_credential_name.as_deref());
        o.opt_str("view_definition", view_definition.as_deref());
        o.opt_str("sql_path", sql_path.as_deref());
        o.opt_str("comment", comment.as_deref());
        o.str("owner", owner);
        if let Some(properties) = properties {
            o.raw("properties", properties.get());
        }
        o.str("table_id", table_id);
        if let Some(b) = browse_only {
            o.bool("browse_only", *b);
        }
        o.str("metastore_id", metastore_id);
        o.i64("created_at", *created_at);
        o.str("created_by", created_by);
        o.i64("updated_at", *updated_at);
        o.str("updated_by", updated_by);
        o.end();
    }

    /// Selective metadata for a caller who holds only `BROWSE` on the catalog:
    /// no columns, properties or storage fields.
    fn browse_only(mut self) -> Self {
        self.browse_only = Some(true);
        self.columns = None;
        self.properties = None;
        self.storage_location = None;
        self.storage_credential_name = None;
        self.view_definition = None;
        self
    }
}

/// createTable
pub async fn create_table(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(req): Body<CreateTable>,
) -> ApiResult<HttpResponse> {
    let spec = TableSpec::try_from(req)?;
    if let Some(loc) = &spec.storage_location {
        state.file_roots.check("storage_location", loc)?;
    }
    let Scoped { caller, metastore } = scoped;
    let storage = state.local_storage();
    let row = state.store.write(move |tx| ops::tables::create(tx, &caller, &metastore.id, spec, &storage)).await?;
    Ok(HttpResponse::Ok().json(TableInfo::from(row)))
}

fn table_name(req: &HttpRequest) -> ApiResult<TableName> {
    Ok(TableName::parse("full_name", &path_param(req, "full_name")?)?)
}

/// getTable
pub async fn get_table(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<BrowseParams>,
) -> ApiResult<HttpResponse> {
    let name = table_name(&req)?;
    let browse = p.include_browse.unwrap_or(false);
    let Scoped { caller, metastore } = scoped;
    let (row, browse_only) =
        state.store.read(move |conn| ops::tables::get(conn, &caller, &metastore.id, &name, browse)).await?;
    let info = TableInfo::from(row);
    let info = if browse_only { info.browse_only() } else { info };
    let mut body = Vec::with_capacity(info.wire_size());
    info.write_json(&mut body);
    Ok(super::json_body(body))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TableExists {
    table_exists: bool,
}

/// `tables/{full_name}/exists` (SDK)
pub async fn table_exists(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = table_name(&req)?;
    let Scoped { caller, metastore } = scoped;
    let exists = state.store.read(move |conn| ops::tables::exists(conn, &caller, &metastore.id, &name)).await?;
    Ok(HttpResponse::Ok().json(TableExists { table_exists: exists }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTablesParams {
    catalog_name: Option<String>,
    schema_name: Option<String>,
    #[serde(default, deserialize_with = "qbool::option")]
    omit_columns: Option<bool>,
    #[serde(default, deserialize_with = "qbool::option")]
    omit_properties: Option<bool>,
}

/// listTables: 403 without use of the catalog and schema; every table for metastore admins,
/// else those the caller may get.
pub async fn list_tables(
    scoped: Scoped,
    state: web::Data<AppState>,
    Params(p): Params<ListTablesParams>,
    Params(page): Params<ListParams>,
) -> ApiResult<HttpResponse> {
    let schema = ops::schemas::list_parent(&p.catalog_name, &p.schema_name)?;
    let Scoped { caller, metastore } = scoped;
    let args = PageArgs::new(
        &state.store,
        format!("tables:{}:{schema}", metastore.id),
        page.max_results,
        page.page_token.as_deref(),
        None,
    )?;
    let (after, limit) = (args.after.clone(), args.limit);
    let with_columns = !p.omit_columns.unwrap_or(false);
    let omit_properties = p.omit_properties.unwrap_or(false);
    let browse = page.include_browse.unwrap_or(false);
    let (items, more_after) = state
        .store
        .read(move |conn| ops::tables::list(conn, &caller, &metastore.id, &schema, &after, limit, with_columns, browse))
        .await?;
    let items: Vec<TableInfo> = items
        .into_iter()
        .filter_map(|(mut t, shown)| {
            if omit_properties {
                t.properties = None;
            }
            match shown {
                Shown::Full => Some(TableInfo::from(t)),
                Shown::BrowseOnly => Some(TableInfo::from(t).browse_only()),
                Shown::Hidden => None,
            }
        })
        .collect();
    let next_page_token = args.next_token(&state.store, more_after);
    let size: usize = items.iter().map(TableInfo::wire_size).sum();
    Ok(Listing { key: "tables", items, next_page_token }.respond_written(size + 256, TableInfo::write_json))
}

/// updateTable
pub async fn update_table(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(body): Body<UpdateTable>,
) -> ApiResult<HttpResponse> {
    let name = table_name(&req)?;
    let update = TableUpdate::parse(&name, body)?;
    if let Some(loc) = update.location() {
        state.file_roots.check("storage_location", loc)?;
    }
    let Scoped { caller, metastore } = scoped;
    let row = state.store.write(move |tx| ops::tables::update(tx, &caller, &metastore.id, &name, update)).await?;
    Ok(HttpResponse::Ok().json(TableInfo::from(row)))
}

/// deleteTable: a MANAGED table's files go once the delete has committed.
pub async fn delete_table(req: HttpRequest, scoped: Scoped, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let name = table_name(&req)?;
    let Scoped { caller, metastore } = scoped;
    let removed = state.store.write(move |tx| ops::tables::delete(tx, &caller, &metastore.id, &name)).await?;
    super::volumes::remove_after_commit(&state, removed.into_iter().collect()).await;
    Ok(ok_empty())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummariesRequest {
    catalog_name: Option<String>,
    schema_name_pattern: Option<String>,
    table_name_pattern: Option<String>,
    #[serde(default, deserialize_with = "qint::option")]
    max_results: Option<i64>,
    page_token: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SummariesBody {
    catalog_name: Option<String>,
    schema_name_pattern: Option<String>,
    table_name_pattern: Option<String>,
    max_results: Option<i64>,
    page_token: Option<String>,
}

/// Table summaries served by GET (query) and POST (body) alike.
const SUMMARIES_PAGE: usize = 1000;

/// listTableSummaries, GET form (SDK).
pub async fn list_summaries_get(
    req: HttpRequest,
    scoped: Scoped,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let q: SummariesRequest = parse_query(req.query_string())?;
    summaries(scoped, state, q).await
}

/// listTableSummaries, POST form (as the API reference gives it).
pub async fn list_summaries_post(
    scoped: Scoped,
    state: web::Data<AppState>,
    Body(b): Body<SummariesBody>,
) -> ApiResult<HttpResponse> {
    let q = SummariesRequest {
        catalog_name: b.catalog_name,
        schema_name_pattern: b.schema_name_pattern,
        table_name_pattern: b.table_name_pattern,
        max_results: b.max_results,
        page_token: b.page_token,
    };
    summaries(scoped, state, q).await
}

/// Longest `LIKE` pattern accepted, in characters (emulator limit; SQLite refuses far longer
/// ones with an error, and matching cost grows with the length).
const MAX_PATTERN_CHARS: usize = 1024;

fn like_pattern(field: &str, p: Option<String>) -> ApiResult<String> {
    match p {
        Some(p) if p.chars().count() > MAX_PATTERN_CHARS => Err(crate::error::ApiError::invalid(
            field,
            format!("is {} characters long; at most {MAX_PATTERN_CHARS} are allowed", p.chars().count()),
        )),
        Some(p) if !p.is_empty() => Ok(crate::domain::names::fold_case(&p)),
        _ => Ok("%".to_string()),
    }
}

async fn summaries(scoped: Scoped, state: web::Data<AppState>, q: SummariesRequest) -> ApiResult<HttpResponse> {
    let catalog = Ident::parse("catalog_name", required("catalog_name", &q.catalog_name)?)?;
    let schema_like = like_pattern("schema_name_pattern", q.schema_name_pattern)?;
    let table_like = like_pattern("table_name_pattern", q.table_name_pattern)?;
    let Scoped { caller, metastore } = scoped;
    let list = format!("summaries:{}:{catalog}:{schema_like}:{table_like}", metastore.id);
    let args = PageArgs::new(&state.store, list, q.max_results, q.page_token.as_deref(), Some(SUMMARIES_PAGE))?;
    let (after, limit) = (args.after.clone(), args.limit);
    let (items, more_after) = state
        .store
        .read(move |conn| {
            ops::tables::summaries(conn, &caller, &metastore.id, catalog, schema_like, table_like, after, limit)
        })
        .await?;
    let next_page_token = args.next_token(&state.store, more_after);
    Ok(HttpResponse::Ok().json(Listing { key: "tables", items, next_page_token }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Strings with what JSON escapes (quotes, backslashes, control characters) and what it
    /// does not (non-ASCII, DEL), as well as plain ones.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9_.]{0,12}",
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![Just('"'), Just('\\'), Just('\n'), Just('\u{1}'), Just('\u{7f}'), Just('é'), Just('x')],
                0..6
            )
            .prop_map(|cs| cs.into_iter().collect()),
        ]
    }

    fn stored() -> impl Strategy<Value = Option<StoredJson>> {
        proptest::option::of(
            prop_oneof![Just("[]"), Just(r#"[{"name":"a","type_json":"{\"x\":1}"}]"#), Just(r#"{"k":"v\n"}"#)]
                .prop_map(|j| StoredJson::from_stored(j.to_string())),
        )
    }

    fn table_info() -> impl Strategy<Value = TableInfo> {
        let opt = || proptest::option::of(text());
        (
            (text(), text(), text(), text(), text(), opt(), stored()),
            (opt(), opt(), opt(), opt(), opt(), text(), stored()),
            (text(), proptest::option::of(any::<bool>()), text(), any::<i64>(), text(), any::<i64>(), text()),
        )
            .prop_map(|(a, b, c)| TableInfo {
                name: a.0,
                catalog_name: a.1,
                schema_name: a.2,
                full_name: a.3,
                table_type: a.4,
                data_source_format: a.5,
                columns: a.6,
                storage_location: b.0,
                storage_credential_name: b.1,
                view_definition: b.2,
                sql_path: b.3,
                comment: b.4,
                owner: b.5,
                properties: b.6,
                table_id: c.0,
                browse_only: c.1,
                metastore_id: c.2,
                created_at: c.3,
                created_by: c.4,
                updated_at: c.5,
                updated_by: c.6,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// getTable and listTables write a table without serde: byte for byte what serde writes.
        #[test]
        fn a_table_s_json_is_what_serde_writes(info in table_info()) {
            let mut out = Vec::new();
            info.write_json(&mut out);
            prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&info).unwrap());
        }

        #[test]
        fn a_page_of_tables_is_what_serde_writes(
            items in proptest::collection::vec(table_info(), 0..3),
            next_page_token in proptest::option::of(text()),
        ) {
            let page = Listing { key: "tables", items, next_page_token };
            let answer = page.respond_written(0, TableInfo::write_json);
            let body = actix_web::body::to_bytes(answer.into_body());
            let body = futures_util::FutureExt::now_or_never(body).expect("a body in memory").unwrap();
            prop_assert_eq!(String::from_utf8(body.to_vec()).unwrap(), serde_json::to_string(&page).unwrap());
        }
    }
}
