// The complaint flow an app writes against the generated types, type-checked in strict mode
// (tests/contract/test_typescript.py). Each `@ts-expect-error` marks a mistake that must not compile:
// tsc fails if one of them ever does.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type ItemState = components["schemas"]["ListItem"]["state"];

export async function fileAndFollow(baseUrl: string, staffToken: string): Promise<ItemState> {
  const api = createClient<paths>({ baseUrl });
  const filed = await api.POST("/api/v1/public/complaints", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { office: "jinshan", category: "accusation", title: "某单位违规收费", body: "窗口收取不合理费用。" },
  });
  if (filed.error) throw new Error(filed.error.code);
  const { receiptNo, queryCode } = filed.data;
  if (!queryCode) throw new Error("an anonymous filing answers its query code");

  const seen = await api.GET("/api/v1/public/complaints/{receipt_no}", {
    params: { path: { receipt_no: receiptNo }, header: { "X-Query-Code": queryCode } },
  });
  if (seen.error) throw new Error(seen.error.code);

  const staff = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${staffToken}` } });
  const page = await staff.GET("/api/v1/staff/complaints", { params: { query: { receiptNo, state: "received" } } });
  if (page.error) throw new Error(page.error.code);
  const first = page.data.items[0];
  if (!first) throw new Error("not found");
  const stepped = await staff.POST("/api/v1/staff/complaints/{complaint_id}/steps", {
    params: { path: { complaint_id: first.id } },
    body: { step: "accept" },
  });
  if (stepped.error) {
    const fields: string[] = (stepped.error.errors ?? []).map((e) => e.field ?? "");
    throw new Error(`${stepped.error.code} ${fields.join(",")}`);
  }
  return stepped.data.state;
}

export async function mistakes(api: ReturnType<typeof createClient<paths>>): Promise<void> {
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
