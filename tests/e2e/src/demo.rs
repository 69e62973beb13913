//! `make demo`: two tenants, Acme and Globex, on one running stack, and what
//! each can and cannot do. Every step prints one line, ✔ or ✘; the story
//! stops at a step later ones depend on. [`run`] answers whether all passed.

use std::io::Write;
use std::time::Duration;

use futures_util::TryStreamExt as _;
use notes_client::{CreateNote, Note, UpdateNote};
use serde_json::Value;
use tenancy::events::Change;
use tenancy::{TenantRole, TenantTier};
use tenants_client::{ActorRole, AuditEntry, AuditFilter, Tenant};
use users_client::InviteUser;

use crate::{Error, Refused as _, Result, Stack, TenantFixture, Tokens, claim, ensure, jwt, strong_password};

/// Lines of the story, and whether any failed.
#[derive(Debug)]
pub struct Report<W: Write> {
    out: W,
    passed: usize,
    failed: usize,
}

impl<W: Write> Report<W> {
    pub fn new(out: W) -> Self {
        Self { out, passed: 0, failed: 0 }
    }

    fn line(&mut self, text: &str) {
        // A closed stdout must not hide the outcome: the exit code carries it.
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// Prints `✔ <line>` for `Ok((value, line))`, `✘ <what>: <error>` otherwise.
    pub fn step<T>(&mut self, what: &str, result: Result<(T, String)>) -> Option<T> {
        match result {
            Ok((value, line)) => {
                self.passed += 1;
                self.line(&format!("✔ {line}"));
                Some(value)
            }
            Err(error) => {
                self.failed += 1;
                self.line(&format!("✘ {what}: {error}"));
                None
            }
        }
    }

    /// A step with nothing to hand on.
    pub fn check(&mut self, what: &str, result: Result<String>) -> bool {
        self.step(what, result.map(|line| ((), line))).is_some()
    }

    /// The summary line; true if every step passed and the story was complete.
    pub fn finish(mut self, complete: bool) -> bool {
        let ok = complete && self.failed == 0;
        let summary = if ok {
            format!("\nall {} steps passed: each tenant reached only its own data", self.passed)
        } else if complete {
            format!("\n{} of {} steps FAILED", self.failed, self.passed + self.failed)
        } else {
            format!("\nthe story stopped early: {} passed, {} FAILED", self.passed, self.failed)
        };
        self.line(&summary);
        ok
    }
}

/// The tail of an id: UUIDv7 ids made in the same second share their head.
fn short(id: impl std::fmt::Display) -> String {
    let id = id.to_string();
    format!("…{}", &id[id.len().saturating_sub(12)..])
}

fn tier_name(tier: TenantTier) -> &'static str {
    tier.as_str()
}

fn token_line(name: &str, tokens: &Tokens, fixture: &TenantFixture) -> Result<String> {
    let claims = tokens.access_claims()?;
    let tenant = claim(&claims, "tenant_id")?;
    let role = claim(&claims, "tenant_role")?;
    let tier = claim(&claims, "tenant_tier")?;
    ensure(tenant == fixture.id().to_string(), || format!("the token names tenant {tenant}, not {}", fixture.id()))?;
    ensure(role == "admin", || format!("the token's role is {role}"))?;
    Ok(format!("{name} admin signed in: token carries tenant_id={} role={role} tier={tier}", short(&tenant)))
}

async fn write_notes(fixture: &TenantFixture, titles: &[&str]) -> Result<Vec<Note>> {
    let mut notes = Vec::new();
    for title in titles {
        let note = CreateNote { title: (*title).to_owned(), body: format!("written by {}", fixture.admin.email) };
        notes.push(fixture.admin.notes.create(&note).await?);
    }
    Ok(notes)
}

fn same_ids(listed: &[Note], expected: &[Note]) -> bool {
    let mut a: Vec<_> = listed.iter().map(|n| n.id).collect();
    let mut b: Vec<_> = expected.iter().map(|n| n.id).collect();
    a.sort();
    b.sort();
    a == b
}

/// Runs the story against `stack`, writing lines to `out`.
pub async fn run(stack: &Stack, out: impl Write) -> bool {
    let mut report = Report::new(out);
    report.line(&format!(
        "Two tenants on the local stack (gateway {}, emulator {})\n",
        stack.settings.gateway, stack.settings.emulator
    ));
    let complete = story(stack, &mut report).await.is_some();
    report.finish(complete)
}

async fn story<W: Write>(stack: &Stack, report: &mut Report<W>) -> Option<()> {
    // --- Registration and sign-in ---------------------------------------------
    let acme = report.step(
        "register Acme",
        async {
            let acme = stack.register_tenant("Acme", TenantTier::Free).await?;
            let line = format!(
                "Acme registered (tenant {}, {} tier, status {})",
                acme.id(),
                tier_name(acme.tenant.tier),
                acme.tenant.status
            );
            Ok((acme, line))
        }
        .await,
    )?;
    report.check("Acme admin's token", token_line("Acme", &acme.admin.tokens, &acme));
    let globex = report.step(
        "register Globex",
        async {
            let globex = stack.register_tenant("Globex", TenantTier::Pro).await?;
            let line = format!("Globex registered (tenant {}, {} tier)", globex.id(), tier_name(globex.tenant.tier));
            Ok((globex, line))
        }
        .await,
    )?;
    report.check("Globex admin's token", token_line("Globex", &globex.admin.tokens, &globex));

    let domain = format!("{}.example.com", acme.tenant.slug);
    let bob = report.step(
        "invite bob into Acme",
        async {
            let bob = stack.invite(&acme.admin, "bob", &domain, TenantRole::Member).await?;
            let claims = bob.member.tokens.access_claims()?;
            ensure(claim(&claims, "tenant_role")? == "member", || format!("bob's claims: {claims:?}"))?;
            let line =
                format!("invited {} as member; bob set a new password and signed in (role=member)", bob.user.email);
            Ok((bob, line))
        }
        .await,
    )?;
    report.check(
        "bob (member) tries to invite",
        async {
            let mallory = InviteUser {
                email: format!("{}@{domain}", stack.unique("mallory")),
                role: TenantRole::Admin,
                temporary_password: Some(strong_password().into()),
            };
            let problem = bob.member.users.invite(&mallory).await.refused(403, "forbidden")?;
            Ok(format!("bob, a member, cannot invite users: 403 ({})", problem.detail))
        }
        .await,
    );

    // --- Notes ----------------------------------------------------------------------
    let acme_notes = report.step(
        "write Acme's notes",
        async {
            let notes = write_notes(&acme, &["Q3 roadmap", "Hiring plan", "Board deck"]).await?;
            let line = format!("{} notes written for Acme", notes.len());
            Ok((notes, line))
        }
        .await,
    )?;
    let globex_notes = report.step(
        "write Globex's notes",
        async {
            let notes = write_notes(&globex, &["Secret formula", "Launch plan"]).await?;
            let line = format!("{} notes written for Globex", notes.len());
            Ok((notes, line))
        }
        .await,
    )?;
    report.check(
        "bob reads Acme's notes",
        async {
            let listed: Vec<Note> = bob.member.notes.list(None).try_collect().await?;
            ensure(same_ids(&listed, &acme_notes), || format!("bob sees {listed:?}"))?;
            Ok(format!("bob (Acme member) sees Acme's {} notes", listed.len()))
        }
        .await,
    );

    let target = acme_notes[0].clone();
    let g = &globex.admin;
    report.check(
        "Globex reads Acme's note",
        async {
            g.notes.get(target.id).await.refused(404, "not-found")?;
            Ok(format!("Globex cannot read Acme's note {}: 404", short(target.id)))
        }
        .await,
    );
    report.check(
        "Globex changes Acme's note",
        async {
            let update = UpdateNote { title: "pwned".to_owned(), body: String::new(), version: target.version };
            g.notes.update(target.id, &update).await.refused(404, "not-found")?;
            Ok("Globex cannot change Acme's note: 404".to_owned())
        }
        .await,
    );
    report.check(
        "Globex deletes Acme's note",
        async {
            g.notes.delete(target.id).await.refused(404, "not-found")?;
            let still = acme.admin.notes.get(target.id).await?;
            ensure(still == target, || format!("Acme's note changed: {still:?}"))?;
            Ok("Globex cannot delete Acme's note: 404 (Acme still has it, unchanged)".to_owned())
        }
        .await,
    );
    report.check(
        "Globex lists notes",
        async {
            let listed: Vec<Note> = g.notes.list(None).try_collect().await?;
            ensure(same_ids(&listed, &globex_notes), || format!("Globex sees {listed:?}"))?;
            Ok(format!("Globex's list shows only its own {} notes", listed.len()))
        }
        .await,
    );
    report.check(
        "Globex sends a header naming Acme",
        async {
            // No client sends such a header: the raw API does.
            let listed: saas_client::Page<Note> = g
                .api
                .with_header("x-tenant-id", &acme.id().to_string())
                .get("/notes?limit=100")
                .await?
                .expect_json(200)?;
            let listed = listed.items;
            ensure(same_ids(&listed, &globex_notes), || format!("Globex sees {listed:?}"))?;
            Ok("a Globex request with the header x-tenant-id=<Acme> still sees only Globex's notes".to_owned())
        }
        .await,
    );
    report.check(
        "Globex sends a body naming Acme",
        async {
            let body = serde_json::json!({"title": "planted", "tenant_id": acme.id().to_string()});
            g.api.send(reqwest::Method::POST, "/notes", Some(body)).await?.expect_problem(400, "bad-request")?;
            Ok("a Globex note whose body names Acme's tenant_id is refused: 400".to_owned())
        }
        .await,
    );
    report.check(
        "Globex reads Acme's user",
        async {
            g.users.get(bob.user.user_id).await.refused(404, "not-found")?;
            g.users.disable(bob.user.user_id).await.refused(404, "not-found")?;
            let users: Vec<users_client::User> = g.users.list(None).try_collect().await?;
            ensure(users.iter().all(|u| u.user_id != bob.user.user_id), || format!("Globex's user list: {users:?}"))?;
            Ok("Globex cannot see or disable Acme's user bob: 404, and bob is not in Globex's list".to_owned())
        }
        .await,
    );

    // --- Tokens ------------------------------------------------------------------------
    report.check(
        "a forged token",
        async {
            let forged = jwt::tampered(&globex.admin.tokens.access_token, |claims| {
                claims.insert("tenant_id".to_owned(), Value::from(acme.id().to_string()));
            })?;
            let api = stack.api(forged);
            api.get("/notes").await?.expect_gateway_unauthorized()?;
            let planted = serde_json::json!({"title": "planted"});
            api.send(reqwest::Method::POST, "/notes", Some(planted)).await?.expect_gateway_unauthorized()?;
            let listed: Vec<Note> = acme.admin.notes.list(None).try_collect().await?;
            ensure(same_ids(&listed, &acme_notes), || format!("Acme's notes changed: {listed:?}"))?;
            Ok("a forged token naming Acme's tenant: 401 at the gateway; Acme's notes untouched".to_owned())
        }
        .await,
    );
    report.check(
        "a token signed with another key",
        async {
            let key = jwt::ForeignKey::generate()?;
            let token = key.resign(&globex.admin.tokens.access_token, |claims| {
                claims.insert("tenant_id".to_owned(), Value::from(acme.id().to_string()));
            })?;
            stack.api(token).get("/notes").await?.expect_gateway_unauthorized()?;
            Ok("a well-formed token signed with a key the issuer never published: 401".to_owned())
        }
        .await,
    );
    report.check(
        "no token",
        async {
            stack.anonymous().get("/notes").await?.expect_gateway_unauthorized()?;
            Ok("no token at all: 401 {\"message\":\"Unauthorized\"}".to_owned())
        }
        .await,
    );

    // --- Tier limit ------------------------------------------------------------------
    report.check(
        "Acme's free-tier user limit",
        async {
            stack.invite(&acme.admin, "carol", &domain, TenantRole::Member).await?;
            let dave = InviteUser {
                email: format!("{}@{domain}", stack.unique("dave")),
                role: TenantRole::Member,
                temporary_password: Some(strong_password().into()),
            };
            let problem = acme.admin.users.invite(&dave).await.refused(403, "limit-exceeded")?;
            Ok(format!(
                "Acme (free tier, {} users max) invites a 4th user: 403 limit-exceeded ({})",
                TenantTier::Free.limits().max_users,
                problem.detail
            ))
        }
        .await,
    );

    // --- Platform administration -------------------------------------------------------
    let operator = report.step(
        "platform admin",
        async {
            let operator = stack.platform_admin().await?;
            let claims = operator.tokens.access_claims()?;
            ensure(!claims.contains_key("tenant_id"), || format!("operator claims: {claims:?}"))?;
            let line = format!("platform admin {} signed in (no tenant claims)", operator.email);
            Ok((operator, line))
        }
        .await,
    )?;
    report.check(
        "Acme's admin on the platform routes",
        async {
            acme.admin.tenants.suspend(globex.id()).await.refused(403, "forbidden")?;
            Ok("Acme's admin cannot suspend Globex: 403".to_owned())
        }
        .await,
    );
    report.check(
        "suspend Acme",
        async {
            let suspended = operator.tenants.suspend(acme.id()).await?;
            ensure(suspended.status.as_str() == "suspended", || format!("{suspended:?}"))?;
            let code = match stack.sign_in(&acme.admin.email, &acme.admin.password).await {
                Err(crate::SignInError::Refused { code, .. }) => code,
                Ok(_) => return Err(Error::new("Acme's admin still signs in after the suspension")),
                Err(other) => return Err(Error(other.to_string())),
            };
            // The token it already holds counts for nothing once the window has passed.
            let window = stack.authority_freshness().await?;
            stack.wait_out_the_freshness_window().await?;
            acme.admin.notes.list_page(None, None).await.refused(403, "tenant-inactive")?;
            Ok(format!(
                "the platform admin suspended Acme: Acme's admin can no longer sign in ({code}), \
                 and the token it held is refused within {} s (403 tenant-inactive)",
                window.as_secs()
            ))
        }
        .await,
    );
    report.check(
        "reactivate Acme",
        async {
            operator.tenants.reactivate(acme.id()).await?;
            stack.sign_in(&acme.admin.email, &acme.admin.password).await?;
            Ok("reactivated: Acme's admin signs in again".to_owned())
        }
        .await,
    );
    report.check(
        "upgrade Acme",
        async {
            operator.tenants.change_tier(acme.id(), TenantTier::Pro).await?;
            let tokens = stack.sign_in(&acme.admin.email, &acme.admin.password).await?;
            let tier = claim(&tokens.access_claims()?, "tenant_tier")?;
            ensure(tier == "pro", || format!("tier claim {tier}"))?;
            Ok("the platform admin moved Acme to the pro tier: new tokens say tenant_tier=pro".to_owned())
        }
        .await,
    );

    // --- Lifecycle events and the audit trail -------------------------------------------
    report.check(
        "Acme's lifecycle events",
        async {
            // Acme's story: registered, two members invited, suspended, back, upgraded.
            let expected = [
                Change::Registered,
                Change::Activated,
                Change::UserInvited,
                Change::UserInvited,
                Change::Suspended,
                Change::Reactivated,
                Change::TierChanged,
            ];
            let events = stack.lifecycle_events(acme.id(), expected.len(), Duration::from_secs(20)).await?;
            let changes: Vec<Change> = events.iter().map(|e| e.change).collect();
            ensure(changes == expected, || format!("Acme's events: {changes:?}"))?;
            let names: Vec<&str> = events.iter().map(|e| e.change.detail_type()).collect();
            Ok(format!(
                "the bus carried one event per change of Acme's life, in order, each as events.schema.json says: {}",
                names.join(", ")
            ))
        }
        .await,
    );

    report.check(
        "Acme's audit trail",
        async {
            let trail: Vec<AuditEntry> = acme.admin.tenants.audit(&AuditFilter::default(), None).try_collect().await?;
            let by_operator = trail.iter().filter(|e| e.actor.role == ActorRole::PlatformAdmin).count();
            let newest = trail.first().map(|e| e.action.as_str());
            ensure(newest == Some("PUT /admin/tenants/{tenant_id}/tier"), || format!("newest entry: {newest:?}"))?;
            ensure(trail.iter().any(|e| e.outcome == 403), || "bob's refused invitation is not in the trail".into())?;
            bob.member.tenants.audit_page(&AuditFilter::default(), None, None).await.refused(403, "forbidden")?;
            Ok(format!(
                "Acme's admin reads {} entries, newest first ({by_operator} by the platform admin, \
                 bob's refused invitation among them); bob, a member, cannot: 403",
                trail.len()
            ))
        }
        .await,
    );

    // --- A tenant's end -----------------------------------------------------------------
    report.check(
        "Globex closes itself",
        async {
            let closing = globex.admin.tenants.close().await?;
            let erase_after = closing.offboarding.map(|o| o.erase_after).ok_or_else(|| Error::new("no erase_after"))?;
            let erase_after = erase_after.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
            let refused = stack.sign_in(&globex.admin.email, &globex.admin.password).await;
            ensure(refused.is_err(), || "Globex's admin still signs in after closing".into())?;
            Ok(format!(
                "Globex's admin closed Globex (status {}): nobody of it signs in any more; \
                 its data goes after the grace period, {erase_after}",
                closing.status
            ))
        }
        .await,
    );
    report.check(
        "offboard Globex",
        async {
            let receipt = crate::offboard(&operator.tenants, globex.id()).await?;
            let count = |service: &str, kind: &str| receipt.removed.get(service).and_then(|k| k.get(kind)).copied();
            let notes = count("notes", "notes").unwrap_or(0);
            let users = count("users", "users").unwrap_or(0);
            let audit = count("tenants", "audit_entries").unwrap_or(0);
            ensure(notes >= 2 && users >= 1, || format!("the receipt: {receipt:?}"))?;
            let listed: Vec<Tenant> = operator.tenants.list(None).try_collect().await?;
            ensure(listed.iter().all(|t| t.tenant_id != globex.id()), || "Globex is still listed".into())?;
            acme.admin.notes.list_page(None, None).await?;
            Ok(format!(
                "the platform admin offboarded Globex at once: each service erased its own records \
                 ({notes} notes, {users} user(s), {audit} audit entries and the rest, as the receipt counts), \
                 Acme is untouched"
            ))
        }
        .await,
    );
    report.check(
        "Globex's lifecycle events",
        async {
            let expected = [Change::Registered, Change::Activated, Change::OffboardingRequested, Change::Offboarded];
            let events = stack.lifecycle_events(globex.id(), expected.len(), Duration::from_secs(20)).await?;
            let changes: Vec<Change> = events.iter().map(|e| e.change).collect();
            ensure(changes == expected, || format!("Globex's events: {changes:?}"))?;
            ensure(events[3].receipt.is_some(), || "the offboarded event has no receipt".into())?;
            let names: Vec<&str> = events.iter().map(|e| e.change.detail_type()).collect();
            Ok(format!("Globex's life on the bus, one event per change: {}", names.join(", ")))
        }
        .await,
    );
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_fails_the_demo() {
        let mut out = Vec::new();
        let mut report = Report::new(&mut out);
        assert_eq!(report.step("one", Ok((1, "first".to_owned()))), Some(1));
        assert!(!report.check("two", Err(Error::new("boom"))));
        assert!(!report.finish(true));
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("✔ first\n") && text.contains("✘ two: boom\n"), "{text}");
        assert!(text.contains("1 of 2 steps FAILED"), "{text}");
    }

    #[test]
    fn an_incomplete_story_fails_even_without_failed_steps() {
        let mut out = Vec::new();
        let mut report = Report::new(&mut out);
        report.check("one", Ok("fine".to_owned()));
        assert!(!report.finish(false));
        let mut out = Vec::new();
        let mut report = Report::new(&mut out);
        report.check("one", Ok("fine".to_owned()));
        assert!(report.finish(true));
    }
}
