/**
 * What `redactSecrets` removes from text that leaves the job (report comments, statuses, chat
 * messages, the app's log lines), shape by shape, and the ordinary text it must leave alone.
 */
import { describe, expect, it } from "@jest/globals";
import { redactSecrets, redactStrings, urlSecretPieces } from "../../src/apply/report-redact.ts";

const UUID = "12345678-90ab-cdef-1234-567890abcdef";
const JWT =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlc2lnbmF0dXJl";
/** base64 of an EC private key in PEM, as talosconfig `key:` and kubeconfig `client-key-data:` hold it. */
const BASE64_KEY =
  "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJvZ3VzCi0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZLS0tLS0K";

describe("secrets by their shape", () => {
  it.each<[string, string, string]>([
    [
      "a tfvars Proxmox token",
      `proxmox_api_token = "terraform@pve!apply=${UUID}"`,
      `proxmox_api_token = "terraform@pve!apply=***"`,
    ],
    [
      "a tfvars token of any shape",
      `proxmox_api_token = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"`,
      `proxmox_api_token = "***"`,
    ],
    [
      "an environment variable",
      "PROXMOX_VE_API_TOKEN=ci-token-s3cr3t-value-99",
      "PROXMOX_VE_API_TOKEN=***",
    ],
    ["a Proxmox token alone", `terraform@pve!apply=${UUID}`, "terraform@pve!apply=***"],
    [
      "a postgres backend URL",
      `conn_str = "postgres://terraform:Pg-Pa55word-xyz@db.home.arpa/tf"`,
      `conn_str = "postgres://terraform:***@db.home.arpa/tf"`,
    ],
    [
      "an https URL password",
      "GET https://admin:Http-Pa55word@prom.home.arpa/api",
      "GET https://admin:***@prom.home.arpa/api",
    ],
    [
      "a URL password with an unencoded # and @",
      "http://monitor:Hash#Pa@55@prom.home.arpa:9090/",
      "http://monitor:***@prom.home.arpa:9090/",
    ],
    [
      "a bare bearer token",
      `curl -H "Authorization: Bearer ${JWT}"`,
      `curl -H "Authorization: Bearer ***"`,
    ],
    ["a bearer token with no field", `sent Bearer ${JWT} to the API`, "sent Bearer *** to the API"],
    ["an opaque bearer token", "bearer 0f9e8d7c6b5a4f3e", "bearer ***"],
    ["a JSON Web Token alone", `token was ${JWT}.`, "token was ***."],
    ["an OAuth query parameter", "access_token=ya29.a0AfH6SMBxyzxyzxyzxyz", "access_token=***"],
    ["a YAML client secret", "client_secret: oidc-client-secret-123456", "client_secret: ***"],
    ["a camelCase Helm value", "  clientSecret: oidc-client-secret-123456", "  clientSecret: ***"],
    [
      "an AWS secret key",
      "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "AWS_SECRET_ACCESS_KEY=***",
    ],
    ["an API key header", "x-api-key: pk_live_abcdefghijklmnop", "x-api-key: ***"],
    ["a talosconfig key in base64", `    key: ${BASE64_KEY}`, "    key: ***"],
    [
      "a kubeconfig client key in base64",
      `    client-key-data: ${BASE64_KEY}`,
      "    client-key-data: ***",
    ],
    ["a kubeconfig token", `    token: ${JWT}`, "    token: ***"],
    [
      "an SSH private key",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----",
      "***",
    ],
    ["a YAML password", "password: hunter2hunter2", "password: ***"],
    ["a short quoted password", `admin_password = "s3cret"`, `admin_password = "***"`],
    ["a password in single quotes", "DB_PASSWORD='correct horse'", "DB_PASSWORD='***'"],
    ["a JSON field", `{"token":"abc def ghi","next":1}`, `{"token":"***","next":1}`],
    [
      "a JSON field inside a JSON string",
      `{"msg":"body {\\"password\\":\\"s3cr3t-in-json\\"}"}`,
      `{"msg":"body {\\"password\\":\\"***\\"}"}`,
    ],
    ["a command-line flag", "--password=PlexDbPassw0rd-literal", "--password=***"],
    [
      "a changed value in a Terraform plan",
      `  ~ api_token = "old-token-value" -> "new-token-value"`,
      `  ~ api_token = "***" -> "***"`,
    ],
    ["a long run of digits", "pin_password = 123456789012345", "pin_password = ***"],
  ])("%s", (_, text, expected) => {
    expect(redactSecrets(text, {})).toBe(expected);
  });
});

describe("ordinary text", () => {
  it("leaves a Terraform plan's summary, addresses, names and commits alone", () => {
    const text = [
      "Terraform will perform the following actions:",
      '  # proxmox_vm_qemu.worker["talos-worker-4"] will be created',
      '  + resource "proxmox_virtual_environment_vm" "worker" {',
      '      + name      = "talos-worker-4"',
      "      + node_name = (known after apply)",
      "      + password  = (sensitive value)",
      "      + api_token = (sensitive value)",
      "    }",
      "Plan: 1 to add, 0 to change, 1 to destroy.",
      "node/talos-worker-1 cordoned; evicting pod media/plex-7d9f8b6c5d-x2v9q",
      "HEAD is now at 0123456789abcdef0123456789abcdef01234567 Scale workers from 3 to 4 nodes",
      "Error: Bearer authentication failed: the token is not valid",
      "secretName: plex-credentials",
      "kind: Secret",
    ].join("\n");
    expect(redactSecrets(text, {})).toBe(text);
  });

  it("leaves numbers, booleans and references after a secret-looking name", () => {
    const text = [
      "token_count = 3",
      "api_token_ttl = 86400",
      "max_tokens: 4096",
      "create_secret = true",
      '"rotate_password": false',
      "secret_version = 20250110",
      "token = var.proxmox_api_token",
      // A workflow's reference to the secret, as written in the workflow file.
      `password = "$\{{ secrets.PROXMOX_PASSWORD }}"`,
      'client_secret = ""',
    ].join("\n");
    expect(redactSecrets(text, {})).toBe(text);
  });

  it("leaves the words after a secret-looking name on the next line", () => {
    const text = "credentials:\n  username: admin\n  path: /etc/credentials";
    expect(redactSecrets(text, {})).toBe(text);
  });
});

describe("a private key without its BEGIN line", () => {
  const body = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
  ];

  it("removes the base64 lines above the END line, and the END line", () => {
    const text = ["terraform: cut here", ...body, "-----END RSA PRIVATE KEY-----", "after"].join(
      "\n",
    );
    expect(redactSecrets(text, {})).toBe("terraform: cut here\n***\nafter");
  });

  it("keeps what its lines are indented by, and a line break written as \\r\\n", () => {
    const text = ["kept", ...body.map((line) => `    ${line}`), "    -----END PRIVATE KEY-----"];
    expect(redactSecrets(text.join("\r\n"), {})).toBe("kept\r\n    ***");
  });

  it("finds the key inside a JSON log line, its line breaks written as \\n", () => {
    const line = JSON.stringify({
      msg: ["x y", ...body, "-----END EC PRIVATE KEY-----", "z"].join("\n"),
    });
    expect(redactSecrets(line, {})).toBe(JSON.stringify({ msg: "x y\n***\nz" }));
  });

  it("removes a key run together with its END line on one line", () => {
    expect(redactSecrets(`key: "${body[0]}-----END PRIVATE KEY-----"`, {})).toBe('key: "***"');
  });

  it("stops at a short line that is one word, not a line of the key", () => {
    const text = ["step", ...body, "-----END RSA PRIVATE KEY-----"].join("\n");
    expect(redactSecrets(text, {})).toBe("step\n***");
  });
});

describe("secrets from the environment", () => {
  it("removes the parts of a secret URL that servers repeat: its path, query and long segments", () => {
    const env = {
      NOTIFY_WEBHOOK_URL:
        "https://chat.example/hooks/hooksecretQ7w8e9r0t1y2u3i4?channel=ops-alerts",
    };
    const text = [
      "<pre>Cannot POST /hooks/hooksecretQ7w8e9r0t1y2u3i4?channel=ops-alerts</pre>",
      "no such hook: hooksecretQ7w8e9r0t1y2u3i4",
      "channel ops-alerts not found",
      "see https://chat.example/hooks for the hooks",
    ].join("\n");
    expect(redactSecrets(text, env)).toBe(
      [
        "<pre>Cannot POST ***</pre>",
        "no such hook: ***",
        "channel *** not found",
        "see https://chat.example/hooks for the hooks",
      ].join("\n"),
    );
  });

  it("names the parts of a URL that hold its secret, and leaves route names", () => {
    expect(
      urlSecretPieces(
        "https://hooks.slack.com/services/T00000001/B00000002/XXXXXXXXXXXXXXXXXXXXXXXX",
      ),
    ).toEqual([
      "/services/T00000001/B00000002/XXXXXXXXXXXXXXXXXXXXXXXX",
      "T00000001",
      "B00000002",
      "XXXXXXXXXXXXXXXXXXXXXXXX",
    ]);
    expect(
      urlSecretPieces("https://discord.com/api/webhooks/123456789012345678/a%2Bb-token/slack"),
    ).toEqual([
      "/api/webhooks/123456789012345678/a%2Bb-token/slack",
      "/api/webhooks/123456789012345678/a+b-token/slack",
      "123456789012345678",
      "a%2Bb-token",
      "a+b-token",
    ]);
    expect(urlSecretPieces("http://monitor:s3cret-pass@prometheus:9090")).toEqual(["s3cret-pass"]);
    expect(urlSecretPieces("https://chat.example/webhooks")).toEqual([]);
    expect(urlSecretPieces("not a url")).toEqual([]);
    expect(urlSecretPieces("terraform@pve!ci=0b9a6c1e")).toEqual([]);
  });
});

describe("redactStrings", () => {
  it("redacts every string of a nested value and keeps the rest", () => {
    const value = {
      log: `password: hunter2hunter2`,
      verdict: {
        warnings: ["token=ghs_16C7e42F292c6912E7710c838347Ae178B4a"],
        expected: { from: 3, to: 4 },
      },
      name: null,
      pool: undefined,
    };
    expect(redactStrings(value, {})).toEqual({
      log: "password: ***",
      verdict: { warnings: ["token=***"], expected: { from: 3, to: 4 } },
      name: null,
      pool: undefined,
    });
  });
});
