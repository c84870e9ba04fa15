// The project's one PRNG (mulberry32, src/scenarios/prng.ts): every bench run walks and seeks the same addresses.
export { prng } from "../../src/scenarios/prng.ts";
