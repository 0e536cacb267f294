import {analyzeOrphans, isMcpChainHead, mcpServersIn} from '../analysis/orphans.js'
import {isCommandWrapper} from '../analysis/wrappers.js'
import {targetOf, terminateTreeActions} from '../checks/actions.js'
import {defineCheck, processFindingId} from '../checks/api.js'
import {treeFinding} from '../checks/findings.js'
import {ProcessTree, treeOf} from '../tree/process-tree.js'
import {formatBytes, formatElapsed, plural} from '../words.js'
import {CHECK_API_VERSION, CHECKS_HOOK, type GtDoctorApi} from './contract.js'

/**
 * The object every check factory and the checks hook receive: exactly the contract, built from the layers
 * below, so what plugins can reach is what GtDoctorApi lists (not every export of the package).
 */
export const PLUGIN_API: GtDoctorApi = Object.freeze({
  defineCheck,
  processFindingId,
  ProcessTree,
  treeOf,
  targetOf,
  terminateTreeActions,
  treeFinding,
  analyzeOrphans,
  isMcpChainHead,
  mcpServersIn,
  isCommandWrapper,
  formatBytes,
  formatElapsed,
  plural,
  CHECK_API_VERSION,
  CHECKS_HOOK,
})
