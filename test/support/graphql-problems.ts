/**
 * GraphQL requests the fake GitHub received that do not fit GitHub's schema. The fake records
 * them here; under jest, the setup file graphql-setup.ts fails the test they were sent in, and
 * the benches that drive the fake outside jest read them with {@link takeGraphqlProblems}.
 */
const problems: string[] = [];

export function recordGraphqlProblems(found: readonly string[]): void {
  problems.push(...found);
}

/** The problems recorded since the last call, emptied. */
export function takeGraphqlProblems(): string[] {
  return problems.splice(0);
}
