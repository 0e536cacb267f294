/**
 * The matching rules every check shares: the one entry point of src/rules/ (types, defaults, compiler).
 * Inside the folder: types.ts (shapes), defaults.ts (the default configuration), validate.ts (checking a
 * configuration and compiling its patterns), argv.ts (option tables and the argv scanner), match.ts (the
 * matchers built from a compiled configuration).
 */
export {type AgentConfig, CLAUDE, MCP_SERVER, type Rules, type RulesConfig} from './types.js'
export {DEFAULT_RULES} from './defaults.js'
export {createRules} from './match.js'
export {checkHeadlessFlag, compile} from './validate.js'
