// Runs the flows of flow.ts against a server, as an app would: node build/main.js <base URL> <demo password>.
// Prints one JSON line of what the server answered; any failure prints the problem and exits non-zero.
import { clueFlow, complaintFlow, signIn, suggestionFlow } from "./flow.js";

// The only Node global used here (no @types/node: the flows themselves use what a browser has, fetch and crypto).
declare const process: { argv: string[]; exitCode?: number };

const [baseUrl, password] = process.argv.slice(2);
if (!baseUrl || !password) throw new Error("usage: node build/main.js <base URL> <password>");
try {
  const office = await signIn(baseUrl, "jinshan.complaints_office", password, "staff-app");
  const complaint = await complaintFlow(baseUrl, office);
  const clue = await clueFlow(await signIn(baseUrl, "jinshan.prosecutor", password, "staff-app"));
  const suggestion = await suggestionFlow(await signIn(baseUrl, "jinshan.deputy", password, "representative-app"),
                                          await signIn(baseUrl, "jinshan.liaison_office", password, "staff-app"));
  console.log(JSON.stringify({ complaint, clue, suggestion }));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
