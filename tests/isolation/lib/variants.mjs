// The deployed policies, deliberately broken: each variant is [break it, a
// problem checkIsolation() must then report]. Used by the teeth tests.

/** The notes statement of the tenant role (a deployed one, whatever its Sid). */
export function notesStatement(v) {
  return v.tenantRole.inline['notes-tenant-data'].Statement[0]
}

const LK = 'dynamodb:LeadingKeys'

// name -> [break it, a problem that must appear]
export const VARIANTS = {
  '(a) presence guards removed (Null and ForAnyValue): ForAllValues alone is vacuously true': [
    (v) => {
      delete notesStatement(v).Condition.Null
      delete notesStatement(v).Condition['ForAnyValue:StringEquals']
    },
    /saas-local-notes as tag=own, LeadingKeys absent: Allowed, expected denied/
  ],
  '(b) policy variable escaped: literal $${aws:PrincipalTag/TenantId}': [
    (v) => { notesStatement(v).Condition['ForAllValues:StringEquals'][LK] = '$${aws:PrincipalTag/TenantId}' },
    /GetItem on \S+saas-local-notes as tag=own, LeadingKeys \[own\]: ImplicitlyDenied, expected Allowed/
  ],
  '(b) policy variable escaped: empty string': [
    (v) => { notesStatement(v).Condition['ForAllValues:StringEquals'][LK] = '' },
    /GetItem on \S+saas-local-notes as tag=own, LeadingKeys \[own\]: ImplicitlyDenied, expected Allowed/
  ],
  '(c) table/* resource': [
    (v) => { notesStatement(v).Resource = `arn:aws:dynamodb:${v.region}:${v.accountId}:table/*` },
    /GetItem on \S+table\/saas-local-tenant-slugs as tag=own, LeadingKeys \[own\]: Allowed, expected denied/
  ],
  '(d) Scan granted (its own statement)': [
    (v) => {
      v.tenantRole.inline['notes-tenant-data'].Statement.push({
        Sid: 'ListNotes', Effect: 'Allow', Action: 'dynamodb:Scan', Resource: notesStatement(v).Resource
      })
    },
    /dynamodb:Scan on \S+saas-local-notes as tag=own, LeadingKeys absent: Allowed, expected denied/
  ],
  '(d) Scan granted (in the LeadingKeys statement: dead today, refused as written)': [
    (v) => { notesStatement(v).Action.push('dynamodb:Scan') },
    /grants dynamodb:Scan on \S+saas-local-notes, not a need of the services/
  ],
  '(e) StringEquals instead of ForAllValues:StringEquals': [
    (v) => {
      const c = notesStatement(v).Condition
      c.StringEquals = c['ForAllValues:StringEquals']
      delete c['ForAllValues:StringEquals']
    },
    /GetItem on \S+saas-local-notes as tag=own, LeadingKeys \[own\]: ImplicitlyDenied, expected Allowed/
  ],
  '(f) trust policy without the TagKeys condition': [
    (v) => { delete v.tenantRole.trust.Statement[0].Condition['ForAllValues:StringEquals'] },
    /trust: sts:TagSession by saas-local-notes-exec session with \{TenantId, Role\}: Allowed, expected denied/
  ],
  '(g) ForAnyValue instead of ForAllValues (one own key admits the others)': [
    (v) => {
      const c = notesStatement(v).Condition
      c['ForAnyValue:StringEquals'] = c['ForAllValues:StringEquals']
      delete c['ForAllValues:StringEquals']
    },
    /saas-local-notes as tag=own, LeadingKeys \[own,other\]: Allowed, expected denied/
  ],
  '(h) condition key misspelt (dynamodb:LeadingKey)': [
    (v) => {
      const c = notesStatement(v).Condition
      c['ForAllValues:StringEquals'] = { 'dynamodb:LeadingKey': c['ForAllValues:StringEquals'][LK] }
    },
    /unknown condition key dynamodb:LeadingKey$/
  ],
  '(i) trust policy without the Null check on aws:RequestTag/TenantId': [
    (v) => { delete v.tenantRole.trust.Statement[0].Condition.Null },
    /trust: sts:AssumeRole by saas-local-notes-exec session with no tags: Allowed, expected denied/
  ],
  '(j) trust policy trusting the whole account': [
    (v) => { v.tenantRole.trust.Statement[0].Principal = { AWS: `arn:aws:iam::${v.accountId}:root` } },
    /trust: sts:AssumeRole by an IAM user with \{TenantId\}: Allowed, expected denied/
  ],
  '(k) an execution role reading tenant data directly (around the tenant role)': [
    (v) => {
      v.executionRoles.notes.inline['notes-execution'].Statement.push({
        Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: v.tables[`${v.prefix}-notes`].arn
      })
    },
    /saas-local-notes-exec: dynamodb:GetItem on \S+saas-local-notes, LeadingKeys \[own\]: Allowed, expected denied/
  ]
}

