// What the suite evaluates, read from the deployed stack (never from Terraform):
// tests/isolation/deployed.py, run with the repo's .venv python (boto3), prints
// the tenant role, the execution roles and the tables as JSON.

import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..', '..')

let cached

/** The deployed stack, read once per process. Throws when no stack is targeted. */
export function readDeployed() {
  if (cached) return cached
  if (!process.env.AWS_ENDPOINT_URL) {
    throw new Error('AWS_ENDPOINT_URL is unset: this suite reads the deployed stack (make test-isolation, after make up)')
  }
  const python = process.env.MOTO_PYTHON || path.join(repo, '.venv', 'bin', 'python')
  if (!existsSync(python)) throw new Error(`${python} not found: run make tools (or set MOTO_PYTHON)`)
  const out = execFileSync(python, [path.join(here, '..', 'deployed.py')], {
    encoding: 'utf8',
    env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...process.env },
    maxBuffer: 16 * 1024 * 1024
  })
  cached = JSON.parse(out)
  return cached
}
