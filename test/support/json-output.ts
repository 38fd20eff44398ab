import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "vitest";
import type { JsonOutputs } from "../../orchestrator/cli/json-output.ts";
import { ROOT } from "../../orchestrator/paths.ts";

let validators: Promise<Ajv2020> | undefined;

/** The shipped schema of the --json outputs, compiled once. */
function schema(): Promise<Ajv2020> {
  validators ??= readFile(join(ROOT, "schema", "json-output.schema.json"), "utf8").then((text) => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    ajv.addSchema(JSON.parse(text), "outputs");
    return ajv;
  });
  return validators;
}

/** Expects a command's --json output to be exactly what docs/json-output.md documents for it. */
export async function expectDocumentedOutput(command: keyof JsonOutputs, output: unknown): Promise<void> {
  const ajv = await schema();
  const validate = ajv.getSchema(`outputs#/properties/${command}`);
  if (!validate) throw new Error(`no documented --json output for ${command}`);
  const valid = validate(output);
  expect(valid, `${command} --json: ${ajv.errorsText(validate.errors)}`).toBe(true);
}
