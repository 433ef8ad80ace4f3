// Everyone's usage: tokens per day (chart), by user, model and API key, and the CSV export.
import DownloadIcon from "@mui/icons-material/Download";
import { Alert, Box, Button, Paper, Typography } from "@mui/material";
import { useState } from "react";
import { exportUsage } from "../../api/usage";
import { useApiClient } from "../../api/context";
import { useAllUsage } from "../../queries/usage";
import { UsageChart } from "../usage/UsageChart";
import { UsageTable, keyName } from "../usage/UsageTables";
import { WindowPicker } from "../usage/WindowPicker";
import { lastDays } from "../usage/window";
import { useErrorAlert } from "../useErrorAlert";

export function UsagePanel() {
  const client = useApiClient();
  const [days, setDays] = useState(30);
  const window = lastDays(days);
  const usage = useAllUsage(window);
  const alert = useErrorAlert(usage);
  const report = usage.data;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", gap: 2 }}>
      <Box sx={{ display: "flex", alignItems: "center", justifyContent: "space-between", flexWrap: "wrap", gap: 1 }}>
        <Typography variant="h6">Usage</Typography>
        <Box sx={{ display: "flex", gap: 1 }}>
          <WindowPicker days={days} onChange={setDays} />
          <Button variant="outlined" startIcon={<DownloadIcon />} onClick={() => void alert.attempt(() => exportUsage(client, window))}>
            Export CSV
          </Button>
        </Box>
      </Box>
      {alert.message && (
        <Alert severity="error" onClose={alert.clear}>
          {alert.message}
        </Alert>
      )}
      {report && (
        <>
          <Paper sx={{ p: 2 }}>
            <Typography variant="subtitle2" gutterBottom data-testid="usage-total">
              {report.totals.total_tokens.toLocaleString()} tokens in {report.totals.requests.toLocaleString()} requests
            </Typography>
            <UsageChart days={report.by_day} label="Everyone's tokens per day" />
          </Paper>
          <UsageTable
            title="By user"
            column="User"
            rows={report.by_user.map((u) => ({ key: String(u.user_id), name: u.username, ...u }))}
          />
          <UsageTable title="By model" column="Model" rows={report.by_model.map((m) => ({ key: m.model, name: m.model, ...m }))} />
          <UsageTable
            title="By API key"
            column="Key"
            rows={report.by_key.map((k) => ({ key: String(k.api_key_id), name: keyName(k.api_key_id, k.api_key_name), ...k }))}
          />
        </>
      )}
    </Box>
  );
}
