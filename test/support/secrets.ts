/**
 * A corpus of real-looking secrets in the command lines where they turn up on an agent machine: MCP servers
 * started with tokens in flags, env assignments, URLs and inline JSON. Every secret is assembled at run
 * time from a deterministic generator, so no secret-shaped literal sits in the repository for a scanner
 * to flag, and every run builds the same corpus.
 */

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const HEX = '0123456789abcdef'
const B64 = `${ALNUM}+/`
const URLSAFE = `${ALNUM}-_`

/** Deterministic pseudo-random text (a linear congruential generator seeded per secret). */
export function fake(alphabet: string, length: number, seed: number): string {
  let x = (seed * 2654435761) >>> 0 || 1
  let out = ''
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out += alphabet[(x >>> 8) % alphabet.length]
  }
  return out
}

export interface SecretCase {
  label: string
  argv: string[]
  /** Substrings that must never appear in redacted output. */
  secrets: string[]
}

/** At least 30 secrets, each in the shape and place it takes in real command lines. */
export function secretCorpus(): SecretCase[] {
  let seed = 1
  const s = (alphabet: string, n: number) => fake(alphabet, n, seed++)
  const cases: SecretCase[] = []
  const add = (label: string, argv: string[], ...secrets: string[]) => cases.push({label, argv, secrets})

  const antKey = `sk-ant-api03-${s(URLSAFE, 93)}AA`
  add('Anthropic key as --api-key', ['/home/morsov/.local/bin/claude', '--api-key', antKey], antKey)
  const antKey2 = `sk-ant-api03-${s(URLSAFE, 93)}AA`
  add(
    'Anthropic key in env assignment',
    ['env', `ANTHROPIC_API_KEY=${antKey2}`, 'node', '/home/morsov/gt/agent.js'],
    antKey2,
  )
  const oat = `sk-ant-oat01-${s(URLSAFE, 80)}`
  add('Claude OAuth token', ['node', '/home/morsov/bin/relay.js', `CLAUDE_CODE_OAUTH_TOKEN=${oat}`], oat)
  const ghp = `ghp_${s(ALNUM, 36)}`
  add(
    'GitHub classic token --token=',
    ['node', '/home/morsov/.npm/_npx/1a2b/node_modules/github-mcp/index.js', `--token=${ghp}`],
    ghp,
  )
  const ghp2 = `ghp_${s(ALNUM, 36)}`
  add(
    'GitHub token in docker -e',
    ['docker', 'run', '-i', '--rm', '-e', `GITHUB_PERSONAL_ACCESS_TOKEN=${ghp2}`, 'ghcr.io/github/github-mcp-server'],
    ghp2,
  )
  const pat = `github_pat_11${s(UPPER_DIGITS, 20)}_${s(ALNUM, 59)}`
  add('GitHub fine-grained PAT, space form', ['gh-mcp', '--github-token', pat], pat)
  const ghs = `ghs_${s(ALNUM, 36)}`
  add(
    'GitHub app token in a clone URL',
    ['git', 'clone', `https://x-access-token:${ghs}@github.com/gastown/rig.git`],
    ghs,
  )
  const xoxb = `xoxb-${s('0123456789', 12)}-${s('0123456789', 13)}-${s(ALNUM, 24)}`
  add('Slack bot token', ['slack-mcp', '--bot-token', xoxb], xoxb)
  const xoxp = `xoxp-${s('0123456789', 12)}-${s('0123456789', 12)}-${s('0123456789', 13)}-${s(HEX, 32)}`
  add('Slack user token in env', ['env', `SLACK_USER_TOKEN=${xoxp}`, 'npx', '-y', 'slack-mcp-server'], xoxp)
  const xoxa = `xoxa-2-${s(ALNUM, 40)}`
  add('Slack app token, bare', ['node', '/home/bob/slack/bridge.js', xoxa], xoxa)
  const akia = `AKIA${s(UPPER_DIGITS, 16)}`
  const awsSecret = s(B64, 40)
  add(
    'AWS key pair in env',
    ['env', `AWS_ACCESS_KEY_ID=${akia}`, `AWS_SECRET_ACCESS_KEY=${awsSecret}`, 'uvx', 'awslabs.aws-api-mcp-server'],
    akia,
    awsSecret,
  )
  const awsSecret2 = s(B64, 40)
  add('AWS secret as a flag', ['aws-mcp', '--aws-secret-access-key', awsSecret2, '--region', 'eu-west-1'], awsSecret2)
  const pgPass = s(ALNUM, 18)
  add(
    'Postgres URL with a password',
    ['npx', '-y', '@modelcontextprotocol/server-postgres', `postgresql://gtuser:${pgPass}@db.internal:5432/gastown`],
    pgPass,
  )
  const redisPass = s(ALNUM, 24)
  add(
    'Redis URL with a password',
    ['node', '/root/redis-mcp/index.js', `redis://default:${redisPass}@cache.internal:6379/0`],
    redisPass,
  )
  const bearer = s(URLSAFE, 48)
  add(
    'Authorization: Bearer header',
    ['curl', '-sS', '-H', `Authorization: Bearer ${bearer}`, 'https://api.example.com/v1/mcp'],
    bearer,
  )
  const basic = Buffer.from(`morsov:${s(ALNUM, 16)}`).toString('base64')
  add('Authorization: Basic header', ['mcp-proxy', '--header', `Authorization: Basic ${basic}`], basic)
  const apiKeyHeader = s(HEX, 32)
  add(
    'X-Api-Key header',
    ['mcp-remote', 'https://mcp.example.com/sse', '--header', `X-Api-Key: ${apiKeyHeader}`],
    apiKeyHeader,
  )
  const pw = `${s(ALNUM, 14)}!9`
  add('--password, space form', ['node', '/home/morsov/db-mcp/server.js', '--password', pw], pw)
  const pw2 = s(ALNUM, 20)
  add('--password=', ['node', '/home/morsov/db-mcp/server.js', `--password=${pw2}`], pw2)
  const dbPw = s(ALNUM, 22)
  add('--db-password', ['mysql-mcp-server', '--db-user', 'gt', '--db-password', dbPw], dbPw)
  const proj = `sk-proj-${s(URLSAFE, 48)}`
  add('OpenAI project key in env', ['env', `OPENAI_API_KEY=${proj}`, 'node', '/home/morsov/tools/embed.js'], proj)
  const ctx7 = `ctx7sk-${s(HEX, 8)}-${s(HEX, 4)}-${s(HEX, 4)}-${s(HEX, 4)}-${s(HEX, 12)}`
  add('Context7 key as --api-key', ['npm', 'exec', '@upstash/context7-mcp', '--', '--api-key', ctx7], ctx7)
  const glpat = `glpat-${s(URLSAFE, 20)}`
  add(
    'GitLab token in env',
    ['env', `GITLAB_PERSONAL_ACCESS_TOKEN=${glpat}`, 'npx', '-y', '@zereight/mcp-gitlab'],
    glpat,
  )
  const stripe = `sk_live_${s(ALNUM, 24)}`
  add(
    'Stripe live key',
    ['node', '/home/morsov/stripe-mcp/dist/index.js', '--tools=all', `--api-key=${stripe}`],
    stripe,
  )
  const google = `AIza${s(URLSAFE, 35)}`
  add('Google API key as --key', ['maps-mcp', '--key', google], google)
  const hf = `hf_${s(ALNUM, 34)}`
  add('Hugging Face token in env', ['env', `HF_TOKEN=${hf}`, 'python3', '-m', 'hf_mcp_server'], hf)
  const npmTok = `npm_${s(ALNUM, 36)}`
  add('npm token', ['npm', 'publish', `--//registry.npmjs.org/:_authToken=${npmTok}`], npmTok)
  const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${s(URLSAFE, 60)}.${s(URLSAFE, 43)}`
  add('JWT as a session argument', ['node', '/home/morsov/gt/bridge.js', '--session', jwt], jwt)
  const inline = s(HEX, 40)
  add(
    'token in inline --mcp-config JSON',
    ['claude', '--mcp-config', `{"mcpServers":{"github":{"command":"docker","env":{"GITHUB_TOKEN":"${inline}"}}}}`],
    inline,
  )
  const clientSecret = s(URLSAFE, 40)
  add(
    '--client-secret',
    ['node', '/home/morsov/oauth-mcp/index.js', '--client-id', 'gt-app', '--client-secret', clientSecret],
    clientSecret,
  )
  const sentry = `sntrys_${s(URLSAFE, 60)}`
  add('Sentry auth token', ['npx', '@sentry/mcp-server', `--auth-token=${sentry}`], sentry)
  const query = s(HEX, 32)
  add('api_key in a URL query', ['mcp-remote', `https://mcp.example.com/sse?api_key=${query}&format=json`], query)
  const linear = `lin_api_${s(ALNUM, 40)}`
  add('Linear key in env', ['env', `LINEAR_API_KEY=${linear}`, 'npx', '-y', 'linear-mcp-server'], linear)
  const discord = `${s(URLSAFE, 24)}.${s(URLSAFE, 6)}.${s(URLSAFE, 27)}`
  add('Discord bot token in env', ['node', '/home/morsov/bots/discord.js', `DISCORD_BOT_TOKEN=${discord}`], discord)
  const passphrase = s(ALNUM, 16)
  add('SSH key passphrase flag', ['ssh-mcp', '--host', 'build01', '--private-key-passphrase', passphrase], passphrase)
  const secret = s(ALNUM, 32)
  add('generic *_SECRET= assignment', ['node', '/home/morsov/gt/webhook.js', `WEBHOOK_SECRET=${secret}`], secret)

  // The shapes issue 18 found unmasked (gitleaks rule ids where a rule of its set covers them).
  const mysqlPw = s(ALNUM, 16)
  add('mysql -pPASSWORD', ['mysql', '-h', 'db.internal', '-u', 'gt', `-p${mysqlPw}`, 'gastown'], mysqlPw)
  const dumpPw = s(ALNUM, 14)
  add('mysqldump -pPASSWORD', ['/usr/bin/mysqldump', `-p${dumpPw}`, '--all-databases'], dumpPw)
  const sshpassPw = s(ALNUM, 15)
  add('sshpass -p', ['sshpass', '-p', sshpassPw, 'ssh', 'build01'], sshpassPw)
  const redisA = s(ALNUM, 20)
  add('redis-cli -a', ['redis-cli', '-h', 'cache', '-a', redisA, 'PING'], redisA)
  const dockerPw = s(ALNUM, 18)
  add('docker login -p', ['docker', 'login', '-u', 'gt', '-p', dockerPw, 'ghcr.io'], dockerPw)
  const curlPw = s(ALNUM, 17)
  add('curl -u user:password', ['curl', '-sS', '-u', `gt:${curlPw}`, 'https://api.example.com'], curlPw)
  const curlPw2 = s(ALNUM, 17)
  add('curl --user=user:password', ['curl', `--user=gt:${curlPw2}`, 'https://api.example.com'], curlPw2)
  const smbPw = s(ALNUM, 13)
  add('smbclient -U user%password', ['smbclient', '//files/share', '-U', `gt%${smbPw}`], smbPw)
  const pgpass = s(ALNUM, 19)
  add('PGPASSWORD=', ['env', `PGPASSWORD=${pgpass}`, 'psql', '-h', 'db'], pgpass)
  const accountKey = `${s(B64, 86)}==`
  add(
    'Azure AccountKey= in a connection string',
    [
      'node',
      '/srv/blob-mcp.js',
      `DefaultEndpointsProtocol=https;AccountName=gt;AccountKey=${accountKey};EndpointSuffix=core.windows.net`,
    ],
    accountKey,
  )
  const sas = s(URLSAFE, 43)
  add(
    'Azure SAS sig=',
    ['azcopy', 'copy', `https://gt.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=${sas}`, '.'],
    sas,
  )
  const ya29 = `ya29.${s(URLSAFE, 120)}`
  add('GCP OAuth access token ya29.', ['curl', '-H', `X-Token ${ya29}`, 'https://www.googleapis.com'], ya29)
  const gocspx = `GOCSPX-${s(URLSAFE, 28)}`
  add('Google OAuth client secret GOCSPX-', ['node', '/srv/oauth.js', gocspx], gocspx)
  const whsec = `whsec_${s(ALNUM, 32)}`
  add('Stripe webhook secret whsec_', ['stripe', 'listen', '--forward-to', 'localhost:3000', whsec], whsec)
  const sg = `SG.${s(URLSAFE, 22)}.${s(URLSAFE, 43)}`
  add('SendGrid key SG.', ['node', '/srv/mail.js', sg], sg)
  const dop = `dop_v1_${s(HEX, 64)}`
  add('DigitalOcean token dop_v1_', ['doctl', 'auth', 'init', '-t', dop], dop)
  const hvs = `hvs.${s(URLSAFE, 90)}`
  add('Vault token hvs.', ['vault', 'login', hvs], hvs)
  const pypi = `pypi-AgEIcHlwaS5vcmc${s(URLSAFE, 60)}`
  add('PyPI token pypi-', ['twine', 'upload', '-p', pypi, 'dist/*'], pypi)
  const age = `AGE-SECRET-KEY-1${s(UPPER_DIGITS, 58)}`
  add('age secret key', ['age', '-d', '-i', '/dev/stdin', age], age)
  const slackHook = `T${s(UPPER_DIGITS, 8)}/B${s(UPPER_DIGITS, 8)}/${s(ALNUM, 24)}`
  add('Slack webhook URL', ['curl', '-X', 'POST', `https://hooks.slack.com/services/${slackHook}`], slackHook)
  const telegram = `${s('0123456789', 10)}:${s(URLSAFE, 35)}`
  add(
    'Telegram bot token in a URL',
    ['curl', `https://api.telegram.org/bot${telegram}/getUpdates`],
    telegram.split(':')[1],
  )
  const discordBare = `M${s(URLSAFE, 25)}.${s(URLSAFE, 6)}.${s(URLSAFE, 38)}`
  add('Discord bot token, bare', ['node', '/srv/bot.js', discordBare], discordBare)
  const camel = s(ALNUM, 32)
  add('camelCase apiToken=', ['node', '/srv/app.js', `apiToken=${camel}`], camel)
  const camelJson = s(ALNUM, 30)
  add(
    'camelCase JSON "authToken"',
    ['claude', '--mcp-config', `{"mcpServers":{"x":{"env":{"authToken":"${camelJson}"}}}}`],
    camelJson,
  )
  const keyId = s(HEX, 40)
  add(
    'GCP private_key_id in inline JSON',
    ['node', '/srv/gcp.js', `{"type":"service_account","private_key_id":"${keyId}"}`],
    keyId,
  )
  const awsSet = s(B64, 40)
  add('aws configure set aws_secret_access_key', ['aws', 'configure', 'set', 'aws_secret_access_key', awsSet], awsSet)
  // More of gitleaks' shapes.
  const dapi = `dapi${s(HEX, 32)}`
  add('Databricks token dapi', ['databricks', 'configure', '--host', 'https://x.cloud.databricks.com', dapi], dapi)
  const shpat = `shpat_${s(HEX, 32)}`
  add('Shopify token shpat_', ['node', '/srv/shop.js', shpat], shpat)
  const glrt = `glrt-${s(URLSAFE, 20)}`
  add('GitLab runner token glrt-', ['gitlab-runner', 'register', '--token', glrt], glrt)
  const dckr = `dckr_pat_${s(URLSAFE, 27)}`
  add('Docker Hub token dckr_pat_', ['node', '/srv/hub.js', dckr], dckr)
  const discordHook = s(URLSAFE, 68)
  add(
    'Discord webhook URL',
    ['curl', `https://discord.com/api/webhooks/${s('0123456789', 18)}/${discordHook}`],
    discordHook,
  )
  const amzSig = s(HEX, 64)
  add(
    'AWS presigned URL signature',
    ['curl', `https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${amzSig}`],
    amzSig,
  )
  const joinedMysql = s(ALNUM, 16)
  add('mysql -p in a shell -c string', ['sh', '-c', `mysql -u gt -p${joinedMysql} gastown < dump.sql`], joinedMysql)
  return cases
}

/**
 * Look-alikes that must come out unchanged (no home directory in them): ports, uids, prompts and words
 * that merely contain a secret word.
 */
export function lookAlikes(): string[][] {
  return [
    ['docker', 'run', '-p', '8080:80', '-u', '1000:1000', 'nginx'],
    ['redis-cli', '-h', 'cache', '-p', '6379', 'PING'],
    ['mysql', '-h', 'db', '-P', '3306', '-p'],
    ['ssh', '-p', '2222', 'build01'],
    ['curl', '-u', 'gt', 'https://api.example.com'],
    ['node', 'server.js', 'monkey=banana', 'bypass=1', '--keyboard', 'us'],
    ['psql', '-U', 'postgres', '-d', 'gastown'],
    ['git', 'log', '--since=10:30:45', 'SG.1'],
    ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/srv/data'],
    ['python3', '-m', 'sk-learn-demo', 'pypi-simple'],
    ['node', 'app.js', '--session-timeout', '30'],
  ]
}

/** Every secret of the corpus, flat. */
export function allSecrets(cases: SecretCase[] = secretCorpus()): string[] {
  return cases.flatMap((c) => c.secrets)
}
