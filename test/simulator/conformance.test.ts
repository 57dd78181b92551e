import { join } from "node:path";
import { loadSpec } from "../../scripts/openapi-conformance";

const RECURSIVE = join(__dirname, "../fixtures/openapi/recursive.yaml");
const JSON_HEADERS = { "content-type": "application/json" };

/** The fixture's answer of GET /v2/agents/{id}, checked against its description. */
const check = (agent: unknown) => loadSpec(RECURSIVE).checkResponse("GET", "/v2/agents/1", 200, JSON_HEADERS, JSON.stringify({ agent }));

it("loads a description whose schemas refer to themselves and to each other", () => {
  const spec = loadSpec(RECURSIVE);
  expect(spec.operations.map((op) => `${op.method} ${op.template}`)).toEqual(["GET /v2/agents/{agent_id}"]);
});

it("accepts data as deep as the recursion goes, through both loops", () => {
  const leaf = { name: "leaf", deployment: { url: null, agent: { name: "deployed" } } };
  expect(check({ name: "root", child_agents: [{ name: "child", child_agents: [leaf], parent_agent: { name: "root" } }] })).toEqual([]);
});

it("names the mismatch deep in recursive data by its place in the file", () => {
  const findings = check({ name: "root", child_agents: [{ name: "child", child_agents: [{ name: 7 }] }] });
  expect(findings).toEqual([{ at: "#/components/schemas/agent/properties/name/type", message: "body/agent/child_agents/0/child_agents/0/name must be string" }]);
  const viaDeployment = check({ name: "root", deployment: { url: 3, agent: { name: "x", deployment: { agent: {} } } } });
  expect(viaDeployment.map((f) => f.message)).toEqual(["body/agent/deployment/url must be string,null", "body/agent/deployment/agent/deployment/agent must have required property 'name'"]);
});
