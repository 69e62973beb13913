use tenancy::credentials::RoleAssumer;
use tenancy::table::{DataError, TableSpec, TenantDynamoSessions};
use tenancy::{TenantId, UserId};

use super::{ClaimsStore, Membership, TenantRecord};

/// The sort key of a user's membership item in the memberships table.
pub fn membership_sort_key(user: &UserId) -> String {
    format!("user#{user}")
}

/// The sort key of the tenant's record in the tenants table.
const TENANT_SK: &str = "tenant";

fn table(name: String) -> TableSpec {
    TableSpec {
        name,
        partition_key: "tenant_id",
        sort_key: "sk",
    }
}

/// Reads both tables with the tenant role assumed for the tenant in
/// question (`TenantId` session tag): a forged or stale tenant id can only
/// ever reach that tenant's own partitions.
#[derive(Debug)]
pub struct DynamoClaimsStore<A> {
    sessions: TenantDynamoSessions<A>,
    tenants: TableSpec,
    memberships: TableSpec,
}

impl<A: RoleAssumer> DynamoClaimsStore<A> {
    pub fn new(
        sessions: TenantDynamoSessions<A>,
        tenants_table: impl Into<String>,
        memberships_table: impl Into<String>,
    ) -> Self {
        Self {
            sessions,
            tenants: table(tenants_table.into()),
            memberships: table(memberships_table.into()),
        }
    }
}

impl<A: RoleAssumer> ClaimsStore for DynamoClaimsStore<A> {
    async fn membership(&self, tenant: &TenantId, user: &UserId) -> Result<Option<Membership>, DataError> {
        let session = self.sessions.get(tenant).await?;
        session
            .table(&self.memberships)
            .get::<Membership>(&membership_sort_key(user))
            .await
    }

    async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, DataError> {
        let session = self.sessions.get(tenant).await?;
        session.table(&self.tenants).get::<TenantRecord>(TENANT_SK).await
    }
}
