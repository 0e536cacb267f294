/**
 * A check's own test, as tables (like ESLint's RuleTester): `flags` are machines on which the check must
 * report exactly the findings given, `ignores` machines on which it must report nothing. Each case runs the
 * check through the real runner (stamping, validation, ignore rules) and plans its fixes through the guard
 * the engine uses, so what a case asserts is what `gt-doctor check --json` and `--fix` would see.
 */
import {describe, expect, it} from 'vitest'
import type {Check, Finding, FixAction, RegisteredCheck} from '../../src/checks/api.js'
import {guardCheck} from '../../src/checks/guard.js'
import {contextFor, fixActions, runOne} from '../../src/checks/runner.js'
import {defaultConfig, type ResolvedConfig} from '../../src/config/config.js'
import {createRules} from '../../src/rules/rules.js'
import {Machine} from './machine.js'

export interface CheckCase {
  /** What the case is about, as the test's name. */
  name: string
  /** Builds the machine the check looks at. */
  machine: (m: Machine) => void
  /** The check's options (`checks.<id>.options`). */
  options?: Record<string, unknown>
}

export interface FlagsCase extends CheckCase {
  /** Every finding, in order, each matched as `toMatchObject` does. */
  findings: Array<Partial<Finding> | Record<string, unknown>>
  /** The pids that fixing every fixable finding would end (terminate-tree targets, in plan order). */
  ends?: number[]
  /** The actions that fixing every fixable finding would plan, each matched as `toMatchObject` does. */
  actions?: Array<Partial<FixAction> | Record<string, unknown>>
}

/** What one case produced: the findings and the actions their fixes plan. */
export async function runCase(
  check: Check<any>,
  c: CheckCase,
): Promise<{findings: Finding[]; actions: FixAction[]; error?: string}> {
  const m = new Machine()
  c.machine(m)
  const snapshot = m.snapshot()
  const config: ResolvedConfig = defaultConfig()
  if (c.options) config.checks[check.id] = {options: c.options}
  const registered = guardCheck({check, source: {kind: 'built-in'}} as RegisteredCheck, config)
  const result = await runOne(registered, snapshot, {config}, createRules(config.rules))
  const ctx = contextFor(registered, snapshot, config)
  const actions = result.findings
    .filter((f) => f.fixable)
    .flatMap((f) => fixActions(registered, result, f, ctx, config))
  return {findings: result.findings, actions, ...(result.error ? {error: result.error} : {})}
}

export function testCheck(check: Check<any>, cases: {flags: FlagsCase[]; ignores: CheckCase[]}): void {
  describe(`${check.id}: flags`, () => {
    for (const c of cases.flags) {
      it(c.name, async () => {
        const {findings, actions, error} = await runCase(check, c)
        expect(error).toBeUndefined()
        expect(findings).toHaveLength(c.findings.length)
        expect(findings).toMatchObject(c.findings)
        if (c.ends)
          expect(actions.flatMap((a) => (a.kind === 'terminate-tree' ? a.targets.map((t) => t.pid) : []))).toEqual(
            c.ends,
          )
        if (c.actions) expect(actions).toMatchObject(c.actions)
      })
    }
  })
  describe(`${check.id}: ignores`, () => {
    for (const c of cases.ignores) {
      it(c.name, async () => {
        const {findings, error} = await runCase(check, c)
        expect(error).toBeUndefined()
        expect(findings).toEqual([])
      })
    }
  })
}
