import type {Check} from '../checks/api.js'

/**
 * The public API as a value (the `gt-doctor` module itself). A check factory and the `gt-doctor:checks`
 * hook receive it, so third-party code calls the very `defineCheck`, `analyzeOrphans` and
 * `terminateTreeActions` of the doctor that runs it, without having to resolve `gt-doctor` from wherever
 * it is installed.
 */
export type GtDoctorApi = typeof import('../index.js')

/** What a check module or a hook may hand over: a check, several, or a module whose default export is one. */
export type CheckExport = Check<any> | {default: CheckExport} | ReadonlyArray<Check<any> | {default: CheckExport}>

/**
 * A module's default export may be a function of the API instead of a check:
 * `export default ({defineCheck}) => defineCheck({...})`.
 */
export type CheckFactory = (api: GtDoctorApi) => CheckExport | Promise<CheckExport>

/** The options the doctor passes to a plugin's `gt-doctor:checks` hook (oclif adds `config` and `context`). */
export interface ChecksHookOptions {
  /** The doctor's public API, to build checks with. */
  api: GtDoctorApi
  /** Bumped when the check API changes incompatibly. */
  apiVersion: typeof CHECK_API_VERSION
}

/** What a `gt-doctor:checks` hook returns (or resolves to). */
export type ChecksHookResult = CheckExport | CheckFactory

/** The hook a plugin declares in its package.json: `"oclif": {"hooks": {"gt-doctor:checks": "./hooks/checks.js"}}`. */
export const CHECKS_HOOK = 'gt-doctor:checks'

/**
 * The version of the check API this doctor implements. 2: `detect` returns what it found (`Found`: key,
 * message, reason, pids, data, fix actions) or hands it to `ctx.report`, and the runner stamps check id,
 * finding id, severity and fixable; whole findings of version 1 are still accepted unchanged.
 */
export const CHECK_API_VERSION = 2
