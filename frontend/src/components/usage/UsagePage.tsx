// A user's own usage: budget left today and this month, tokens per day, by model and by API key.
import { Alert, Box, Container, LinearProgress, Paper, Typography } from "@mui/material";
import { useState } from "react";
import type { MyUsage } from "../../api/types";
import { useMyUsage } from "../../queries/usage";
import { TopBar } from "../TopBar";
import { UsageChart } from "./UsageChart";
import { UsageTable, keyName } from "./UsageTables";
import { WindowPicker } from "./WindowPicker";
import { lastDays } from "./window";

export function UsagePage() {
  const [days, setDays] = useState(30);
  const usage = useMyUsage(lastDays(days));
  const report = usage.data;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      <TopBar title="Usage" area="usage" />
      <Box sx={{ flex: 1, overflowY: "auto" }}>
        <Container maxWidth="lg" sx={{ py: 3, display: "flex", flexDirection: "column", gap: 2 }}>
          <Box sx={{ display: "flex", alignItems: "center", justifyContent: "space-between", flexWrap: "wrap", gap: 1 }}>
            <Typography variant="h6">Your usage</Typography>
            <WindowPicker days={days} onChange={setDays} />
          </Box>
          {usage.error && <Alert severity="error">{usage.error.message}</Alert>}
          {report && (
            <>
              <Budget budget={report.budget} />
              <Paper sx={{ p: 2 }}>
                <Typography variant="subtitle2" gutterBottom data-testid="usage-total">
                  {report.totals.total_tokens.toLocaleString()} tokens in {report.totals.requests.toLocaleString()} requests
                </Typography>
                <UsageChart days={report.by_day} label="Your tokens per day" />
              </Paper>
              <UsageTable
                title="By model"
                column="Model"
                rows={report.by_model.map((m) => ({ key: m.model, name: m.model, ...m }))}
              />
              <UsageTable
                title="By API key"
                column="Key"
                rows={report.by_key.map((k) => ({ key: String(k.api_key_id), name: keyName(k.api_key_id, k.api_key_name), ...k }))}
              />
            </>
          )}
        </Container>
      </Box>
    </Box>
  );
}

function Budget({ budget }: { budget: MyUsage["budget"] }) {
  const periods = [
    { name: "Today", limit: budget.daily_limit, used: budget.daily_used, resets: budget.daily_resets_at },
    { name: "This month", limit: budget.monthly_limit, used: budget.monthly_used, resets: budget.monthly_resets_at },
  ];
  return (
    <Box sx={{ display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(240px, 1fr))", gap: 2 }}>
      {periods.map((p) => (
        <Paper key={p.name} sx={{ p: 2 }} data-budget={p.name}>
          <Typography variant="overline" color="text.secondary">
            {p.name}
          </Typography>
          <Typography variant="h6">
            {p.used.toLocaleString()} {p.limit === null ? "tokens (no limit)" : `of ${p.limit.toLocaleString()} tokens`}
          </Typography>
          {p.limit !== null && (
            <>
              <LinearProgress variant="determinate" value={Math.min(100, (100 * p.used) / p.limit)} sx={{ my: 1 }} />
              <Typography variant="caption" color="text.secondary">
                starts again {new Date(p.resets).toLocaleString()}
              </Typography>
            </>
          )}
        </Paper>
      ))}
    </Box>
  );
}
