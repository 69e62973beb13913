// The teeth (lib/teeth.mjs) of variants (a) to (d): LeadingKeys guard, policy
// variable, resources, Scan. Split from teeth-roles so node --test runs the
// two in parallel.

import { testTeeth } from './lib/teeth.mjs'

testTeeth(/^\((a|b|c|d)\)/)
