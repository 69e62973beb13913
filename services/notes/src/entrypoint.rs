//! HTTP API (payload 2.0) events in, responses out. The tenant comes from the
//! verified claims and nowhere else; it is established before any data access.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use http::StatusCode;
use serde_json::Value;
use tenancy::audit::{Actor, Audit, AuditStore};
use tenancy::authority::{Authority, AuthorityStore};
use tenancy::erasure::{ErasureAnswer, ErasureCommand, answer_erasure};
use tenancy::http::{
    DEFAULT_MAX_BODY_BYTES, RouteResult, answer, created, dispatch, json_body, json_response, no_body, no_content,
    only_query_params, optional_idempotency_key, page_query, path_param,
};
use tenancy::replay::{KeyedCreate, RememberedCreate};
use tenancy::table::DataError;
use tenancy::telemetry::{record_tenant, request_span};
use tenancy::{ApiError, Caller, TenantContext};
use tracing::Instrument as _;

use crate::api::{CURSOR, CreateNote, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, NoteList, UpdateNote};
use crate::domain::{InvalidNote, Note, NoteContent, NoteId, NoteRules, now};
use crate::store::{Created, NoteStore};

/// The routes this function serves, as API Gateway route keys.
pub const ROUTES: [&str; 5] =
    ["GET /notes", "POST /notes", "GET /notes/{note_id}", "PUT /notes/{note_id}", "DELETE /notes/{note_id}"];

/// The notes API over a store, for callers whose authority the records give.
#[derive(Debug)]
pub struct NotesApi<S, A, T> {
    store: S,
    authority: Authority<A>,
    audit: Audit<T>,
}

impl<S: NoteStore, A: AuthorityStore, T: AuditStore> NotesApi<S, A, T> {
    pub fn new(store: S, authority: Authority<A>, audit: Audit<T>) -> Self {
        Self { store, authority, audit }
    }

    /// The store (for tests).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The callers' authority (for tests).
    pub fn authority(&self) -> &Authority<A> {
        &self.authority
    }

    /// The audit trail (for tests).
    pub fn audit(&self) -> &Audit<T> {
        &self.audit
    }

    /// Answers one raw invocation: the tenants service's offboarding command
    /// (`{"internal": ...}`, see `tenancy::erasure`), or an HTTP API request.
    pub async fn invoke(&self, payload: Value, invocation_id: &str) -> Value {
        let internal = |command: Option<ErasureCommand>| {
            async move {
                match command {
                    Some(command) => answer_erasure(self.authority.store(), &self.store, command).await,
                    None => ErasureAnswer::Refused {
                        status: 400,
                        detail: "the payload is not a valid internal command".into(),
                    },
                }
            }
            .instrument(request_span(invocation_id))
        };
        dispatch(payload, invocation_id, internal, |request| self.handle(request)).await
    }

    /// Answers one request; every failure becomes a problem response.
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let request = &request;
        answer(request, |span| async move { self.route(request, &span).await }).await
    }

    async fn route(&self, request: &ApiGatewayV2httpRequest, span: &tracing::Span) -> RouteResult {
        let caller = Caller::from_request(request)?;
        record_tenant(span, &caller.tenant_id);
        // Every note route is a member's: records at most one window old.
        let context = self.authority.current(&caller).await?;
        let result = match request.request_context.route_key.as_deref().unwrap_or_default() {
            "GET /notes" => self.list(&context, request).await,
            "POST /notes" => self.create(&context, request).await,
            "GET /notes/{note_id}" => self.get(&context, request).await,
            "PUT /notes/{note_id}" => self.update(&context, request).await,
            "DELETE /notes/{note_id}" => self.delete(&context, request).await,
            _ => Err(ApiError::NotFound("no such route".into())),
        };
        self.audit.record(&context.tenant_id, context.tier, Actor::member(&context), request, &result).await;
        result
    }

    async fn list(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        let (limit, after) = page_query(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CURSOR)?;
        let page = self.store.list(&context.tenant_id, limit, after).await?;
        let list = NoteList { items: page.notes, next_cursor: page.next_after.map(|id| CURSOR.encode(&id)) };
        Ok(json_response(StatusCode::OK, &list))
    }

    async fn create(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        only_query_params(request, &[])?;
        let key = optional_idempotency_key(request)?;
        let input: CreateNote = json_body(request, DEFAULT_MAX_BODY_BYTES)?;
        let content = content(&input.title, &input.body)?;
        let tenant = &context.tenant_id;
        // With a key, the create is remembered in its own transaction; a
        // retry finds the key taken there (no read up front on this hot path).
        let keyed = key.map(|key| KeyedCreate::new(&context.user_id, &key, &input));
        let note = Note::create(content, now());
        let record = keyed.as_ref().map(|keyed| keyed.record(note.id, note.created_at));
        let pair = keyed.as_ref().zip(record.as_ref()).map(|(keyed, record)| (keyed.sort_key.as_str(), record));
        let limit = context.tier.limits().max_notes;
        match self.store.create(tenant, &note, limit, pair).await? {
            Created::Yes => {}
            Created::LimitReached => {
                return Err(ApiError::LimitExceeded(format!(
                    "the {} tier allows at most {limit} notes; delete some or change the tier",
                    context.tier
                )));
            }
            Created::KeyUsed => {
                // An earlier or concurrent request with this key: answer as it did.
                let keyed = keyed.as_ref().ok_or(ApiError::Internal)?;
                let remembered = self.store.remembered(tenant, &keyed.sort_key).await?.ok_or(ApiError::Internal)?;
                return self.repeat(context, keyed, &remembered).await;
            }
        }
        tracing::info!(note_id = %note.id, "note created");
        Ok(created(&format!("/notes/{}", note.id), &note))
    }

    /// The answer to a create whose idempotency key is remembered: the same
    /// note for the same input, a conflict for other input.
    async fn repeat(&self, context: &TenantContext, keyed: &KeyedCreate, remembered: &RememberedCreate) -> RouteResult {
        let id = NoteId::parse(keyed.repeated_id(remembered)?).map_err(|_| ApiError::Internal)?;
        let note = self.store.get(&context.tenant_id, id).await?.ok_or_else(|| {
            ApiError::Conflict(format!(
                "the request with this Idempotency-Key created note {id}, which has since been deleted"
            ))
        })?;
        tracing::info!(note_id = %note.id, "note create repeated");
        Ok(created(&format!("/notes/{}", note.id), &note))
    }

    async fn get(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let id = note_id(request)?;
        let note = self.store.get(&context.tenant_id, id).await?.ok_or_else(not_found)?;
        Ok(json_response(StatusCode::OK, &note))
    }

    async fn update(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        only_query_params(request, &[])?;
        let id = note_id(request)?;
        let input: UpdateNote = json_body(request, DEFAULT_MAX_BODY_BYTES)?;
        let content = content(&input.title, &input.body)?;
        let current = self.store.get(&context.tenant_id, id).await?.ok_or_else(not_found)?;
        if current.version != input.version {
            return Err(stale(input.version, current.version));
        }
        let revised = current.revise(content, now());
        self.store.replace(&context.tenant_id, &revised, input.version).await.map_err(|error| match error {
            DataError::ConditionFailed { exists: true, .. } => {
                ApiError::Conflict(format!("version {} is no longer current; read the note again", input.version))
            }
            DataError::ConditionFailed { exists: false, .. } => not_found(),
            other => other.into(),
        })?;
        tracing::info!(note_id = %id, version = revised.version, "note updated");
        Ok(json_response(StatusCode::OK, &revised))
    }

    async fn delete(&self, context: &TenantContext, request: &ApiGatewayV2httpRequest) -> RouteResult {
        no_body(request)?;
        only_query_params(request, &[])?;
        let id = note_id(request)?;
        self.store.delete(&context.tenant_id, id).await.map_err(|error| match error {
            DataError::ConditionFailed { .. } => not_found(),
            other => other.into(),
        })?;
        tracing::info!(note_id = %id, "note deleted");
        Ok(no_content())
    }
}

fn note_id(request: &ApiGatewayV2httpRequest) -> Result<NoteId, ApiError> {
    NoteId::parse(path_param(request, "note_id")?).map_err(|error| ApiError::BadRequest(error.to_string()))
}

fn content(title: &str, body: &str) -> Result<NoteContent, ApiError> {
    NoteContent::new(title, body).map_err(|error: InvalidNote| ApiError::BadRequest(error.to_string()))
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such note".into())
}

fn stale(given: u64, current: u64) -> ApiError {
    ApiError::Conflict(format!("version {given} is stale; the note is at version {current}"))
}
