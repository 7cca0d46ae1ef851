import { describe, expect, it } from "@jest/globals";
import { laterVariableFiles } from "../../src/repo/tfvars-precedence.ts";

describe("laterVariableFiles", () => {
  const files = [
    "terraform/b.auto.tfvars",
    "terraform/a.auto.tfvars.json",
    "terraform/terraform.tfvars.json",
    "terraform/terraform.tfvars",
    "terraform/prod.tfvars",
    "terraform/modules/terraform.tfvars",
    "other/z.auto.tfvars",
    "terraform/B.auto.tfvars",
  ];

  it("lists what Terraform reads after the target in its folder, in Terraform's order", () => {
    expect(laterVariableFiles("terraform/terraform.tfvars", files)).toEqual([
      "terraform/terraform.tfvars.json",
      "terraform/B.auto.tfvars",
      "terraform/a.auto.tfvars.json",
      "terraform/b.auto.tfvars",
    ]);
    expect(laterVariableFiles("terraform/a.auto.tfvars.json", files)).toEqual([
      "terraform/b.auto.tfvars",
    ]);
    expect(laterVariableFiles("terraform/b.auto.tfvars", files)).toEqual([]);
  });

  it("lists nothing for a file Terraform reads only when told (-var-file)", () => {
    expect(laterVariableFiles("terraform/prod.tfvars", files)).toEqual([]);
  });

  it("reads the repo root as a folder too", () => {
    expect(laterVariableFiles("terraform.tfvars", ["terraform.tfvars", "x.auto.tfvars"])).toEqual([
      "x.auto.tfvars",
    ]);
  });
});
