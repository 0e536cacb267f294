/**
 * The public API is what third-party checks build on: every export documented, and the built-in checks
 * using nothing else.
 */
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'
import * as api from '../src/index.js'

describe('public API', () => {
  it('has TSDoc on every export and every member of exported interfaces and classes', () => {
    const program = ts.createProgram(['src/index.ts'], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
    })
    const checker = program.getTypeChecker()
    const doc = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim()
    const missing: string[] = []
    for (const exported of checker.getExportsOfModule(
      checker.getSymbolAtLocation(program.getSourceFile('src/index.ts')!)!,
    )) {
      const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      if (!doc(sym)) missing.push(exported.name)
      const decl = sym.declarations?.[0]
      if (decl && (ts.isInterfaceDeclaration(decl) || ts.isClassDeclaration(decl))) {
        for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym))) {
          const isPrivate = member.declarations?.some((d) => ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private)
          if (!isPrivate && !doc(member)) missing.push(`${exported.name}.${member.name}`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  it('exports what a third-party check needs', () => {
    for (const name of [
      'defineCheck',
      'processFindingId',
      'terminateTreeActions',
      'targetOf',
      'analyzeOrphans',
      'treeOf',
      'ProcessTree',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function')
    }
    expect(api.CHECKS_HOOK).toBe('gt-doctor:checks')
    expect(api.CHECK_API_VERSION).toBe(2)
  })

  it('built-in checks import only the public API', () => {
    for (const file of fs.readdirSync('checks').filter((f) => f.endsWith('.ts'))) {
      const source = fs.readFileSync(path.join('checks', file), 'utf8')
      const imports = [...source.matchAll(/^import\s.*?from\s+'([^']+)'/gms)].map((m) => m[1])
      expect(imports, file).toEqual(['../src/index.js'])
    }
  })
})
