/**
 * The fleet alerting of examples/prometheus end to end, with the real programs: the doctor writes its
 * metrics into the textfile directory of the real node_exporter (Debian `prometheus-node-exporter`), the
 * real Prometheus scrapes it and evaluates the example rules, and the orphan alert fires on an orphan scene
 * and clears after `--fix`. Everything runs in a private PID and network namespace (loopback only), on a
 * copy of the rules whose `for:` and intervals are seconds instead of minutes.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {REPO_ROOT, type LiveNamespace, describeLive, networkUnavailableReason, startNamespace} from './namespace.js'
import {orphanUnderInit, runDoctor} from './scenarios.js'

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const missing = ['prometheus', 'prometheus-node-exporter'].filter((c) => !onPath(c))
const unavailable =
  networkUnavailableReason() ??
  (missing.length ? `needs ${missing.join(' and ')} (Debian packages prometheus, prometheus-node-exporter)` : undefined)

const PROMETHEUS = '127.0.0.1:9090'
const EXPORTER = '127.0.0.1:9100'

describeLive(
  'the example alert rules on a real Prometheus and node_exporter',
  () => {
    let ns: LiveNamespace
    let textfiles: string
    let prom: string

    /** GET on Prometheus's HTTP API from inside the namespace (the only place its loopback exists). */
    async function api<T>(query: string): Promise<T> {
      const script = `fetch(${JSON.stringify(`http://${PROMETHEUS}${query}`)}).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1) })`
      const r = await ns.exec([process.execPath, '-e', script], {timeoutMs: 10_000})
      if (r.code !== 0) throw new Error(`GET ${query}: ${r.stderr}`)
      return JSON.parse(r.stdout).data as T
    }
    const alerts = async (name: string) =>
      (
        await api<{alerts: Array<{labels: Record<string, string>; state: string; value: string}>}>('/api/v1/alerts')
      ).alerts.filter((a) => a.labels.alertname === name)
    const sample = async (expr: string) =>
      (await api<{result: Array<{value: [number, string]}>}>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result

    beforeAll(async () => {
      ns = await startNamespace({network: true})
      const dir = path.join(ns.tmpdir, 'prometheus')
      textfiles = path.join(dir, 'textfile')
      prom = path.join(textfiles, 'gt_doctor.prom')
      fs.mkdirSync(textfiles, {recursive: true})
      const rules = fs
        .readFileSync(path.join(REPO_ROOT, 'examples/prometheus/gt-doctor.rules.yml'), 'utf8')
        .replace(/for: 10m/, 'for: 3s')
      expect(rules).toContain('for: 3s')
      fs.writeFileSync(path.join(dir, 'rules.yml'), rules)
      fs.writeFileSync(
        path.join(dir, 'prometheus.yml'),
        `global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['${EXPORTER}']}]\n`,
      )
      const daemon = (argv: string[], log: string) =>
        ns.spawn(['sh', '-c', `exec "$@" >${path.join(dir, log)} 2>&1`, 'daemon', ...argv], {cwd: dir, detached: true})
      await daemon(
        [
          'prometheus-node-exporter',
          `--web.listen-address=${EXPORTER}`,
          '--collector.disable-defaults',
          '--collector.textfile',
          `--collector.textfile.directory=${textfiles}`,
        ],
        'node-exporter.log',
      )
      await daemon(
        [
          'prometheus',
          `--config.file=${path.join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=${PROMETHEUS}`,
        ],
        'prometheus.log',
      )
      const log = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8').slice(-2000)
      await ns
        .waitUntil(
          async () => (await sample('up{job="node"} == 1').catch(() => [])).length === 1,
          60_000,
          500,
          'Prometheus up and scraping node_exporter',
        )
        .catch((e) => {
          throw new Error(
            `${e.message}\nprometheus.log:\n${log('prometheus.log')}\nnode-exporter.log:\n${log('node-exporter.log')}`,
          )
        })
    }, 90_000)
    afterAll(async () => {
      await ns?.close()
    })

    it('an orphan fires GtDoctorOrphansPresent through node_exporter; --fix clears it', async () => {
      const tree = await orphanUnderInit(ns, {mcp: 2})
      const first = await runDoctor(ns, ['--format', 'prometheus', '--fail-on', 'never', '--output', prom])
      expect(first.code, first.stderr).toBe(0)
      expect(fs.readFileSync(prom, 'utf8')).toMatch(/^gt_doctor_orphan_claude 1$/m)

      // node_exporter serves the file, Prometheus scrapes it, the recording rule sums it, the alert fires.
      await ns.waitUntil(
        async () => (await sample('instance:gt_doctor_orphans:sum')).some((s) => s.value[1] === '3'),
        30_000,
        500,
        'orphans recorded',
      )
      await ns.waitUntil(
        async () => (await alerts('GtDoctorOrphansPresent')).some((a) => a.state === 'firing'),
        30_000,
        500,
        'orphan alert firing',
      )
      const [firing] = await alerts('GtDoctorOrphansPresent')
      expect(firing.labels).toMatchObject({instance: EXPORTER, job: 'node', severity: 'warning'})
      expect(Number(firing.value)).toBe(3)

      const fixed = await runDoctor(ns, [
        '--fix',
        '--yes',
        '--grace',
        '1',
        '--format',
        'prometheus',
        '--fail-on',
        'never',
        '--output',
        prom,
      ])
      expect(fixed.code, fixed.stderr).toBe(0)
      for (const pid of tree.pids) expect(await ns.alive(pid)).toBe(false)
      expect(fs.readFileSync(prom, 'utf8')).toMatch(/^gt_doctor_orphan_claude 0$/m)
      await ns.waitUntil(
        async () => (await alerts('GtDoctorOrphansPresent')).length === 0,
        30_000,
        500,
        'orphan alert cleared',
      )
      // The doctor ran a moment ago and no check crashed: the other alerts stay quiet.
      expect(await alerts('GtDoctorNotRunning')).toEqual([])
      expect(await alerts('GtDoctorCheckCrashed')).toEqual([])
    }, 120_000)
  },
  unavailable,
)
