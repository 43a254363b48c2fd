// The flows an app writes against the generated types, type-checked in strict mode and run with node against
// `jianwu serve` (tests/contract/test_typescript.py, through main.ts). Each `@ts-expect-error` marks a mistake that
// must not compile: tsc fails if one of them ever does.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
type Api = ReturnType<typeof createClient<paths>>;
type ItemState = Schemas["ListItem"]["state"];

/** An Error carrying the problem+json answer's stable code (and the fields it names). */
function problem(what: string, error: Schemas["Problem"]): Error {
  const fields = (error.errors ?? []).map((e) => e.field ?? "");
  return new Error(`${what}: ${error.status} ${error.code} ${fields.join(",")}`);
}

function key(): { "Idempotency-Key": string } {
  return { "Idempotency-Key": crypto.randomUUID() };
}

/** A client signed in with the password grant (a form body, as OAuth 2.0 wants it). */
export async function signIn(baseUrl: string, username: string, password: string,
                             clientId: Schemas["PasswordGrantForm"]["client_id"]): Promise<Api> {
  const anonymous = createClient<paths>({ baseUrl });
  const token = await anonymous.POST("/api/v1/auth/token", {
    body: { grant_type: "password", client_id: clientId, username, password },
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (token.error) throw problem("sign-in", token.error);
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token.data.access_token}` } });
}

export interface ComplaintOutcome {
  receiptNo: string;
  replayed: boolean;
  states: ItemState[];
  rating: number | null;
}

/** Anonymous filing (retried with its key), tracking by query code, the office's handling, the rating. */
export async function complaintFlow(baseUrl: string, office: Api): Promise<ComplaintOutcome> {
  const api = createClient<paths>({ baseUrl });
  const body = { office: "jinshan", category: "accusation", title: "某单位违规收费", body: "窗口收取不合理费用。" };
  const header = key();
  const filed = await api.POST("/api/v1/public/complaints", { params: { header }, body });
  if (filed.error) throw problem("filing", filed.error);
  const { receiptNo, queryCode } = filed.data;
  if (!queryCode) throw new Error("an anonymous filing answers its query code");
  // The answer was lost on a weak network: the retry with the same key gets the same receipt.
  const retried = await api.POST("/api/v1/public/complaints", { params: { header }, body });
  if (retried.error) throw problem("retry", retried.error);
  if (retried.data.receiptNo !== receiptNo) throw new Error("a retry filed a second item");
  const replayed = retried.response.headers.get("Idempotent-Replayed") === "true";

  const track = { path: { receipt_no: receiptNo }, header: { "X-Query-Code": queryCode } };
  const states: ItemState[] = [];
  const seen = await api.GET("/api/v1/public/complaints/{receipt_no}", { params: track });
  if (seen.error) throw problem("tracking", seen.error);
  states.push(seen.data.state);

  const page = await office.GET("/api/v1/staff/complaints", { params: { query: { receiptNo, state: "received" } } });
  if (page.error) throw problem("staff list", page.error);
  const first = page.data.items[0];
  if (!first) throw new Error("the office does not find the item by its receipt number");
  const item = { path: { complaint_id: first.id } };
  const accepted = await office.POST("/api/v1/staff/complaints/{complaint_id}/steps", {
    params: item, body: { step: "accept" },
  });
  if (accepted.error) throw problem("accept", accepted.error);
  states.push(accepted.data.state);
  const assigned = await office.POST("/api/v1/staff/complaints/{complaint_id}/assignment", {
    params: item, body: { mode: "random" },
  });
  if (assigned.error) throw problem("assign", assigned.error);
  if (!assigned.data.assigneeId) throw new Error("assigned to nobody");
  states.push(assigned.data.state);
  const replied = await office.POST("/api/v1/staff/complaints/{complaint_id}/replies", {
    params: { ...item, header: key() }, body: { kind: "progress", text: "正在调查核实中。" },
  });
  if (replied.error) throw problem("reply", replied.error);
  const closed = await office.POST("/api/v1/staff/complaints/{complaint_id}/steps", {
    params: item, body: { step: "close", disposition: "已责令退还多收费用", reply: "经核查，已责令退还多收费用。" },
  });
  if (closed.error) throw problem("close", closed.error);
  states.push(closed.data.state);

  const followed = await api.GET("/api/v1/public/complaints/{receipt_no}", { params: track });
  if (followed.error) throw problem("tracking", followed.error);
  if (!followed.data.canRate) throw new Error("a closed item can be rated");
  const rated = await api.POST("/api/v1/public/complaints/{receipt_no}/rating", {
    params: track, body: { score: 5, comment: "处理及时" },
  });
  if (rated.error) throw problem("rating", rated.error);
  // Rated once: a second rating is a conflict, answered as problem+json with its code.
  const twice = await api.POST("/api/v1/public/complaints/{receipt_no}/rating", { params: track, body: { score: 1 } });
  if (!twice.error || twice.response.status !== 409) throw new Error("a second rating was taken");
  return { receiptNo, replayed, states, rating: rated.data.rating };
}

/** A PIL clue registered from the field and found in the office's list. */
export async function clueFlow(prosecutor: Api): Promise<{ clueNo: string; listed: boolean }> {
  const title = `河道企业偷排污水${crypto.randomUUID().slice(0, 6)}`;
  const created = await prosecutor.POST("/api/v1/staff/litigation/clues", {
    params: { header: key() },
    body: { domain: "ecology_environment", title, description: "巡查发现排污口持续排放污水。",
            place: { address: "上海市金山区合同路2号", latitude: 30.7, longitude: 121.3 } },
  });
  if (created.error) throw problem("clue", created.error);
  const listed = await prosecutor.GET("/api/v1/staff/litigation/clues", {
    params: { query: { q: title, state: "registered" } },
  });
  if (listed.error) throw problem("clue list", listed.error);
  return { clueNo: created.data.clueNo, listed: listed.data.items.some((c) => c.id === created.data.id) };
}

/** A deputy's suggestion, submitted in the representative app and read by the liaison office. */
export async function suggestionFlow(deputy: Api, office: Api): Promise<{ number: string; state: string }> {
  const submitted = await deputy.POST("/api/v1/rep/liaison/suggestions", {
    params: { header: key() },
    body: { title: "关于加强河道污染治理的建议", body: "建议对沿河企业排污开展专项监督。" },
  });
  if (submitted.error) throw problem("suggestion", submitted.error);
  const seen = await office.GET("/api/v1/staff/liaison/suggestions/{suggestion_id}", {
    params: { path: { suggestion_id: submitted.data.id } },
  });
  if (seen.error) throw problem("suggestion read", seen.error);
  return { number: seen.data.number, state: seen.data.state };
}

export async function mistakes(api: Api): Promise<void> {
  // A misspelled state.
  // @ts-expect-error "recieved" is not an item state
  await api.GET("/api/v1/staff/complaints", { params: { query: { state: "recieved" } } });
  // A filing without its Idempotency-Key.
  // @ts-expect-error the header parameter is required
  await api.POST("/api/v1/public/complaints", {
    body: { office: "jinshan", category: "accusation", title: "t", body: "b" },
  });
  // An unknown channel on a staff filing.
  await api.POST("/api/v1/staff/complaints", {
    params: { header: { "Idempotency-Key": "k-12345678" } },
    // @ts-expect-error "email" is not a channel
    body: { channel: "email", category: "accusation", title: "t", body: "b" },
  });
  // A misspelled workflow step.
  await api.POST("/api/v1/staff/complaints/{complaint_id}/steps", {
    params: { path: { complaint_id: "00000000-0000-0000-0000-000000000000" } },
    // @ts-expect-error "acept" is not a step
    body: { step: "acept" },
  });
  // A citizen's code sent with the password grant: each grant takes its own fields.
  await api.POST("/api/v1/auth/token", {
    // @ts-expect-error the password grant takes a username and password, not a phone and code
    body: { grant_type: "password", client_id: "staff-app", phone: "15800000000", code: "123456" },
  });
  // Branching on an error code that does not exist.
  const answer = await api.GET("/api/v1/staff/complaints", {});
  // @ts-expect-error "not_fund" is not an error code
  if (answer.error?.code === "not_fund") throw new Error("unreachable");
}
