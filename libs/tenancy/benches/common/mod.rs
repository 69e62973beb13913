//! The warm request of a tenant-scoped function, piece by piece, for the
//! criterion benches (`hot_path`) and the percentile sampler (`overhead_p99`).
//! Everything is in memory: no STS, no DynamoDB, no network.

#![allow(dead_code)] // each bench target uses its own subset

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequest,
};
use serde::Serialize;
use tenancy::authority::{Authority, AuthoritySettings, MemoryAuthorityStore};
use tenancy::credentials::{CredentialsError, RoleAssumer, TenantCacheSettings};
use tenancy::table::{TableSpec, TenantDynamoCache, TxWrite, WriteCondition, tenant_dynamo_cache};
use tenancy::{Caller, TenantContext, TenantId, TenantRole, TenantTier, UserId};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench";
const CLIENT_ID: &str = "bench-client";

/// Credentials valid for an hour, with no STS call.
#[derive(Debug, Clone, Copy)]
pub struct LocalAssumer;

impl RoleAssumer for LocalAssumer {
    async fn assume(&self, _tenant: &TenantId) -> Result<Credentials, CredentialsError> {
        Ok(Credentials::new(
            "ASIABENCHBENCHBENCH",
            "bench-secret",
            Some("bench-session-token".to_owned()),
            Some(SystemTime::now() + Duration::from_secs(3600)),
            "bench",
        ))
    }
}

/// A note as the notes service stores it.
#[derive(Debug, Serialize)]
pub struct NoteItem {
    pub note_id: String,
    pub title: String,
    pub body: String,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub tenant: TenantId,
    pub request: ApiGatewayV2httpRequest,
    pub dynamo: TenantDynamoCache<LocalAssumer>,
    pub authority: Authority<MemoryAuthorityStore>,
    pub table: TableSpec,
    pub note: NoteItem,
}

impl Fixture {
    /// Everything warm: the tenant's DynamoDB client and the caller's records cached
    /// (the default freshness window).
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let tenant = TenantId::generate();
        let user = UserId::generate();
        let claims: HashMap<String, String> = [
            ("sub", user.to_string()),
            ("token_use", "access".to_owned()),
            ("client_id", CLIENT_ID.to_owned()),
            ("tenant_id", tenant.to_string()),
            ("tenant_role", "admin".to_owned()),
            ("tenant_tier", "pro".to_owned()),
            ("iss", ISSUER.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = claims;
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        let mut request = ApiGatewayV2httpRequest::default();
        request.request_context.authorizer = Some(authorizer);

        let sdk =
            SdkConfig::builder().region(Region::new("us-east-1")).behavior_version(BehaviorVersion::latest()).build();
        let records = MemoryAuthorityStore::default();
        records.ensure_member(tenant, user, TenantRole::Admin, TenantTier::Pro);
        let authority = Authority::new(records, AuthoritySettings::default());
        let dynamo = runtime.block_on(async {
            let dynamo = tenant_dynamo_cache(LocalAssumer, sdk, TenantCacheSettings::default());
            dynamo.get(&tenant).await.expect("dynamo");
            let caller = Caller::from_request(&request).expect("caller");
            authority.current(&caller).await.expect("records cached");
            dynamo
        });
        Self {
            runtime,
            tenant,
            request,
            dynamo,
            authority,
            table: TableSpec { name: "saas-local-notes".to_owned(), partition_key: "tenant_id", sort_key: "sk" },
            note: NoteItem {
                note_id: "0190b6d2-7c1e-7a3b-9f00-1234567890ab".to_owned(),
                title: "A note of ordinary length".to_owned(),
                body: "Some text a user wrote, a sentence or two long, as notes usually are.".to_owned(),
                version: 1,
                created_at: "2026-01-01T00:00:00Z".to_owned(),
                updated_at: "2026-01-01T00:00:00Z".to_owned(),
            },
        }
    }

    /// Claims to the caller, then its authority from the cached records.
    pub async fn context(&self) -> TenantContext {
        let caller = Caller::from_request(&self.request).expect("caller");
        self.authority.current(&caller).await.expect("authority")
    }

    /// The tenancy work of a warm create-note request with cached
    /// credentials and records: claims to context (authority included), the
    /// tenant's cached client, and the transaction's two writes (the note,
    /// the usage counter) built for the tenant's partition, not sent.
    pub async fn overhead(&self) -> Vec<TxWrite> {
        let context = self.context().await;
        let dynamo = self.dynamo.get(&context.tenant_id).await.expect("cached dynamo");
        let table = dynamo.table(&self.table);
        vec![
            table
                .put_write("note#0190b6d2-7c1e-7a3b-9f00-1234567890ab", &self.note, WriteCondition::Absent)
                .expect("put"),
            table.count_write("usage", "notes", 1, 0..=10_000).expect("count"),
        ]
    }
}
