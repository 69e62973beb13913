// Teeth: the deployed policies, deliberately broken (lib/variants.mjs), fed to
// the same checkIsolation() the live test uses. Each break must be caught, by
// the problem it causes. Needs the local stack (the deployed policies are the
// base). The variants are split over two files so node --test runs them in
// parallel.

import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { readDeployed } from './lib/deployed.mjs'
import { VARIANTS } from './lib/variants.mjs'
import { checkIsolation } from './lib/wall.mjs'

// (a) to (d): LeadingKeys guard, policy variable, resources, Scan.
const PART = /^\((a|b|c|d)\)/

let d

before(() => {
  d = readDeployed()
})

for (const [name, [breakIt, expected]] of Object.entries(VARIANTS).filter(([n]) => PART.test(n))) {
  test(`caught: ${name}`, async (t) => {
    const variant = structuredClone(d)
    breakIt(variant)
    const { problems } = await checkIsolation(variant)
    t.diagnostic(`${problems.length} problem(s), e.g. ${problems.find((p) => expected.test(p)) ?? problems[0]}`)
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected a problem matching ${expected}, got ${problems.length}:\n${problems.slice(0, 10).join('\n')}`
    )
  })
}
