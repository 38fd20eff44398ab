import { loadTopology } from "../model/topology.ts";
import { ROOT } from "../paths.ts";
import { COMPOSE_IMAGES, composeSpec, renderCompose } from "../spec/compose.ts";
import { readLabInputs } from "../spec/inputs.ts";
import { apiReference } from "./api.ts";
import { jsonOutputReference, jsonOutputSchema } from "./json-output.ts";
import { policyJsonSchema, policyReference } from "./policy.ts";
import { relayConfigJsonSchema, relayConfigReference } from "./relay-config.ts";
import { topologyJsonSchema, topologyReference } from "./topology.ts";

/** Every file the project generates from its code, by path from the project root (npm run docs). */
export const GENERATED: Record<string, () => string | Promise<string>> = {
  "docs/topology.md": topologyReference,
  "schema/topology.schema.json": () => `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`,
  "docs/policy-reference.md": policyReference,
  "schema/policy.schema.json": () => `${JSON.stringify(policyJsonSchema(), null, 2)}\n`,
  "docs/relay-config.md": relayConfigReference,
  "schema/relay-config.schema.json": () => `${JSON.stringify(relayConfigJsonSchema(), null, 2)}\n`,
  "docs/json-output.md": jsonOutputReference,
  "docs/api.md": apiReference,
  "schema/json-output.schema.json": () => `${JSON.stringify(jsonOutputSchema(), null, 2)}\n`,
  "compose.yaml": async () => {
    const topology = await loadTopology();
    return renderCompose(composeSpec(topology, await readLabInputs(topology, COMPOSE_IMAGES)), ROOT);
  },
};
