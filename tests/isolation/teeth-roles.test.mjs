// The teeth (lib/teeth.mjs) of variants (e) to (k): operators, key names, trust
// policy, execution roles. Split from teeth-policy so node --test runs the two
// in parallel.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testTeeth } from './lib/teeth.mjs'
import { VARIANTS } from './lib/variants.mjs'

testTeeth(/^\((e|f|g|h|i|j|k)\)/)

test('every variant is run by one of the teeth files', () => {
  for (const name of Object.keys(VARIANTS)) assert.match(name, /^\([a-k]\) /)
})
