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

Exposes a local server at a public URL on the relay.

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
};

/** The overview: every command, and where settings come from. */
export function overview(): string {
  return `porthole ${VERSION}: a localhost tunnel through a relay you own

Usage:
  porthole http <port|host:port|url> [options]   expose a local server
  porthole <port>                                 shorthand for "porthole http <port>"
  porthole mcp [options] -- <command> [args...]   serve a stdio MCP server over HTTP
  porthole relay [options]                        run the relay locally in workerd
  porthole captures [NAME] [options]              list the requests a tunnel carried
  porthole replay <id> [NAME] [options]           send a captured request again

Run "porthole <command> --help" for its options and examples.

Config file: $PORTHOLE_CONFIG or ~/.config/porthole/config.json with {"relay", "token"}.
Flags win over the environment, and the environment over the config file.
`;
}
