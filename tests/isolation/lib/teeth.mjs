// Teeth: the deployed policies, deliberately broken (variants.mjs), fed to the
// same checkIsolation() the live test uses. Each break must be caught, by the
// problem it causes. Needs the local stack (the deployed policies are the base).

import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { readDeployed } from './deployed.mjs'
import { VARIANTS } from './variants.mjs'
import { checkIsolation } from './wall.mjs'

// One test per variant whose name matches `part`, e.g. /^\((a|b)\)/.
export function testTeeth(part) {
  let deployed

  before(() => {
    deployed = readDeployed()
  })

  for (const [name, [breakIt, expected]] of Object.entries(VARIANTS).filter(([n]) => part.test(n))) {
    test(`caught: ${name}`, async (t) => {
      const variant = structuredClone(deployed)
      breakIt(variant)
      const { problems } = await checkIsolation(variant)
      t.diagnostic(`${problems.length} problem(s), e.g. ${problems.find((p) => expected.test(p)) ?? problems[0]}`)
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected a problem matching ${expected}, got ${problems.length}:\n${problems.slice(0, 10).join('\n')}`
      )
    })
  }
}
