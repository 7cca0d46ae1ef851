/**
 * Jest setup file (setupFilesAfterEnv): a GraphQL request the fake GitHub took that does not fit
 * GitHub's schema fails the test it was sent in.
 */
import { afterEach, expect } from "@jest/globals";
import { takeGraphqlProblems } from "./graphql-problems.ts";

afterEach(() => {
  expect(takeGraphqlProblems()).toEqual([]);
});
