// What `porthole --help` and `porthole <command> --help` print: usage, options and examples.
// The README's Usage section is this text.

/** The CLI's version, printed by --version and announced to the relay. */
export const VERSION = "0.1.0";

const TUNNEL_OPTIONS = `  --relay URL          relay to connect to (env PORTHOLE_RELAY); without one,
                       porthole starts a local relay on 127.0.0.1
  --token T            agent token of the relay (env PORTHOLE_TOKEN)
  --name NAME          tunnel name, a DNS label (default: a random readable name)
  --force              take the name over from an agent that holds it
  --capture-bytes N    bytes of each body the relay keeps in a capture (default 1 MiB)
  --heartbeat S        seconds between heartbeats (default 15); the relay and the
                       agent each call the other dead after three silent periods
  --sse-keepalive S    seconds an event stream may be idle before the relay writes
                       a ": keepalive" comment between events (default 20; 0 or off)
  --verify P:SECRET    verify webhook signatures at the relay (repeatable); P is
                       github, stripe, slack, standard-webhooks (svix), shopify,
                       twilio, square, linear, discord, twitch, paddle, zoom,
                       sendgrid, mailgun, intercom, pagerduty, gitlab, typeform,
                       calendly, vercel or an hmac recipe
  --verify-mode MODE   enforce (default: a bad signature gets 401) or log
  --basic-auth U:P     require HTTP basic auth on the public URL (repeatable)
  --bearer TOKEN       require "Authorization: Bearer TOKEN" (repeatable)
  --allow-ip CIDR      allow only these client addresses, IPv4 or IPv6 (repeatable)
  --rate-limit N/min   at most N requests a minute per client address (429)
  --json               print newline-delimited JSON events
  --verbose            print stack traces on errors`;

const API_OPTIONS = `  --relay URL          relay to ask (env PORTHOLE_RELAY; required here)
  --token T            agent token of the relay (env PORTHOLE_TOKEN)
  --json               print one JSON object per line`;

/** Help for each command. */
export const COMMAND_HELP: Record<string, string> = {
  http: `Usage: porthole http <port|host:port|url> [options]
       porthole <port>

Exposes a local server at a public URL on the relay. On a terminal it shows a live
console; piped, one line per request; with --json, one JSON event per line.

Options:
${TUNNEL_OPTIONS}
  --host-header MODE   Host sent to the local server: rewrite (default, the
                       target's host), preserve (the public host) or a value

Examples:
  porthole 3000                                            # embedded local relay
  porthole http localhost:8080 --relay https://relay.example.com --token "$TOKEN" --name my-app
  porthole http https://localhost:8443 --host-header preserve
  porthole http 3000 --verify stripe:whsec_… --basic-auth ann:s3cret
`,
  mcp: `Usage: porthole mcp [options] -- <command> [args...]

Runs a stdio MCP server and serves it as Streamable HTTP at <public URL>/mcp. Each
client session gets its own server process. Prints the URL and client config.

Options: the http options (except --host-header):
${TUNNEL_OPTIONS}

Examples:
  porthole mcp -- npx -y @modelcontextprotocol/server-everything
  porthole mcp --name tools --relay https://relay.example.com -- node server.js --verbose
`,
  relay: `Usage: porthole relay [options]

Runs the relay locally in workerd on 127.0.0.1, for agents on this machine.

Options:
  --port N             port on 127.0.0.1 (default 8787; 0 picks a free one)
  --token T            agent token (env PORTHOLE_TOKEN; default: random, printed)
  --domain D           public domain for host mode (default localhost)
  --grace S            seconds to hold requests while an agent reconnects (default 10)
  --json               print newline-delimited JSON events

Examples:
  porthole relay --port 8787 --token secret
  porthole http 3000 --relay http://127.0.0.1:8787 --token secret
`,
  deploy: `Usage: porthole deploy [options]

Deploys the relay to your Cloudflare account with wrangler, logged in as wrangler is
("npx wrangler login"). Stores the agent token as the Worker secret AGENT_TOKEN,
writes the relay URL and token to your config file, and prints the agent command.

Options:
  --domain D           tunnels' domain for host mode (https://<name>.D): sets
                       PUBLIC_DOMAIN and the route *.D/*; needs a proxied
                       wildcard DNS record *.D (default: path mode on workers.dev)
  --zone Z             Cloudflare zone of --domain (default: wrangler finds it)
  --worker-name N      Worker name (default porthole-relay)
  --token T            agent token to store (default: the one in your config
                       from an earlier deploy of this Worker, else a new one)
  --rotate-token       store a new token even if your config has one
  --dry-run            bundle the Worker and print the plan; sends nothing
  --outdir DIR         with --dry-run: keep the bundle in DIR
  --json               print the plan or the result as one JSON object

Examples:
  porthole deploy --dry-run
  porthole deploy
  porthole deploy --domain t.example.com --rotate-token
`,
  start: `Usage: porthole start [PRESET...] [options]

Runs tunnel presets from the config files, each its own tunnel, all from this one
process (all presets when none is named). Presets live under "tunnels" in the user
config file and in a porthole.config.json in this directory or a parent (its
presets replace the user's of the same name; it may set the relay, not the token):

  {"tunnels": {"web": {"target": "3000", "basicAuth": ["ann:s3cret"]},
               "api": {"target": "localhost:8080", "name": "my-api",
                       "verify": ["stripe:whsec_…"], "rateLimit": "60/min"}}}

A preset takes target and the http options as fields: name (default: the preset's
key), hostHeader, verify, verifyMode, basicAuth, bearer, allowIp, rateLimit,
sseKeepalive, captureBytes. Unknown fields are errors. A tunnel that fails (its
name is taken, say) stops alone; the others keep running.

Options:
  --relay URL          relay to connect to (env PORTHOLE_RELAY); without one,
                       porthole starts one local relay for all the tunnels
  --token T            agent token of the relay (env PORTHOLE_TOKEN)
  --force              take each name over from an agent that holds it
  --heartbeat S        seconds between heartbeats (default 15)
  --json               print newline-delimited JSON events, each with "tunnel"
  --verbose            print stack traces on errors

Examples:
  porthole start                  # every preset
  porthole start web api --json
`,
  captures: `Usage: porthole captures [NAME] [options]

Lists the requests a tunnel carried, newest first. NAME defaults to the relay's only tunnel.

Options:
${API_OPTIONS}
  --limit N            captures to list (default 50)
  --follow             list oldest first, then print each capture as it completes
  --mcp                list MCP messages instead: each request with its answer
                       and timing, notifications too (--limit counts them)
  --mcp-method M       only MCP method M and those under it (tools/call,
                       notifications); implies --mcp

Examples:
  porthole captures my-app --follow
  porthole captures my-app --mcp-method tools/call --json
`,
  replay: `Usage: porthole replay <id> [NAME] [options]

Sends a captured request through the tunnel again, as captured or with edits.

Options:
${API_OPTIONS}
  --method M           replay with another method
  --path P             replay to another path and query
  --header K:V         replay with header K set to V (repeatable; "K:" removes K)
  --body-file F        replay with the bytes of file F as the body
  --resign             replay signed again, with a fresh timestamp, by the
                       tunnel's --verify secret (verbatim without it)

Examples:
  porthole replay 019a2b3c4d5e-7f3a01 my-app
  porthole replay 019a2b3c4d5e-7f3a01 --method PUT --header X-Test:1 --body-file body.json
  porthole replay 019a2b3c4d5e-7f3a01 my-app --resign
`,
  status: `Usage: porthole status [options]

Shows the relay, whether it answers, and its tunnels: online or offline, since when.

Options:
${API_OPTIONS}

Examples:
  porthole status --relay https://relay.example.com --token "$TOKEN"
  porthole status --json
`,
  doctor: `Usage: porthole doctor [port|host:port|url] [options]

Checks, in order, what a tunnel needs, and says how to fix each failure: the relay
answers; it accepts the token; the clocks agree (webhook timestamps depend on it);
the local port is open (when given); Node is recent enough; WebSocket upgrades get
through any proxy to the relay. Exit code 0 when no check failed, 1 otherwise.

Options:
  --relay URL          relay to check (env PORTHOLE_RELAY; without one, only the
                       local checks run)
  --token T            agent token of the relay (env PORTHOLE_TOKEN)
  --json               print one JSON object per check

Examples:
  porthole doctor 3000
  porthole doctor localhost:8080 --relay https://relay.example.com --token "$TOKEN" --json
`,
};

/** The overview: every command, and where settings come from. */
export function overview(): string {
  return `porthole ${VERSION}: a localhost tunnel through a relay you own

Usage:
  porthole http <port|host:port|url> [options]   expose a local server
  porthole <port>                                 shorthand for "porthole http <port>"
  porthole mcp [options] -- <command> [args...]   serve a stdio MCP server over HTTP
  porthole relay [options]                        run the relay locally in workerd
  porthole deploy [options]                       deploy the relay to your Cloudflare account
  porthole start [PRESET...] [options]            run tunnel presets from the config files
  porthole captures [NAME] [options]              list the requests a tunnel carried
  porthole replay <id> [NAME] [options]           send a captured request again
  porthole status [options]                       show the relay and which tunnels are online
  porthole doctor [port] [options]                check the relay, token, clock, port and proxy

Run "porthole <command> --help" for its options and examples.

Config: $PORTHOLE_CONFIG or ~/.config/porthole/config.json {relay, token, tunnels},
and the nearest ./porthole.config.json {relay, tunnels}.
Flags win over the environment, and the environment over the config file.

Exit codes: 0 done (also when stopped with Ctrl-C), 1 failed (the message says why; for
doctor, a check failed), 2 a usage mistake, 130 a second Ctrl-C while stopping.
`;
}
