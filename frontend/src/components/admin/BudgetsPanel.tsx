// Token budgets: everyone's default, and a user's own in its place (empty: no limit).
import { Alert, Box, Button, MenuItem, Paper, Select, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, TextField, Typography } from "@mui/material";
import { useState, type FormEvent } from "react";
import type { BudgetIn } from "../../api/types";
import { useUsers } from "../../queries/admin";
import { useBudgets, useClearUserBudget, useSetDefaultBudget, useSetUserBudget } from "../../queries/usage";
import { useErrorAlert } from "../useErrorAlert";

const asLimit = (text: string): number | null => (text.trim() === "" ? null : Number(text));
const shown = (limit: number | null | undefined) => (limit == null ? "no limit" : limit.toLocaleString());

function LimitsForm({ label, initial, onSave }: { label: string; initial?: BudgetIn; onSave: (body: BudgetIn) => Promise<boolean> }) {
  const [daily, setDaily] = useState(initial?.daily_tokens?.toString() ?? "");
  const [monthly, setMonthly] = useState(initial?.monthly_tokens?.toString() ?? "");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await onSave({ daily_tokens: asLimit(daily), monthly_tokens: asLimit(monthly) });
  };
  return (
    <Box component="form" onSubmit={submit} aria-label={label} sx={{ display: "flex", gap: 1, flexWrap: "wrap", alignItems: "center" }}>
      <TextField size="small" type="number" label="Daily tokens" value={daily} onChange={(e) => setDaily(e.target.value)} placeholder="no limit" slotProps={{ htmlInput: { min: 1 } }} />
      <TextField size="small" type="number" label="Monthly tokens" value={monthly} onChange={(e) => setMonthly(e.target.value)} placeholder="no limit" slotProps={{ htmlInput: { min: 1 } }} />
      <Button type="submit" variant="contained">
        Save
      </Button>
    </Box>
  );
}

export function BudgetsPanel() {
  const budgets = useBudgets();
  const users = useUsers();
  const alert = useErrorAlert(budgets, users);
  const { mutateAsync: saveDefault } = useSetDefaultBudget();
  const { mutateAsync: saveUser } = useSetUserBudget();
  const { mutateAsync: clearUser } = useClearUserBudget();
  const [chosen, setChosen] = useState<number | "">("");
  const list = budgets.data;
  const own = new Set(list?.users.map((u) => u.user_id));
  return (
    <Box sx={{ display: "flex", flexDirection: "column", gap: 2 }}>
      <Typography variant="h6">Token budgets</Typography>
      <Typography variant="body2" color="text.secondary">
        Prompt and completion tokens per UTC day and month. A request past the budget is refused with the time it starts again; a reply stops
        at the budget.
      </Typography>
      {alert.message && (
        <Alert severity="error" onClose={alert.clear}>
          {alert.message}
        </Alert>
      )}
      {list && (
        <>
          <Paper sx={{ p: 2 }} data-testid="default-budget">
            <Typography variant="subtitle2" gutterBottom>
              Default for everyone: {shown(list.default.daily_tokens)} a day, {shown(list.default.monthly_tokens)} a month
            </Typography>
            <LimitsForm key={list.default.updated_at} label="Default budget" initial={list.default} onSave={(body) => alert.attempt(() => saveDefault(body))} />
          </Paper>
          <Paper sx={{ p: 2 }}>
            <Typography variant="subtitle2" gutterBottom>
              A user's own budget
            </Typography>
            <Box sx={{ display: "flex", gap: 1, flexWrap: "wrap", alignItems: "center" }}>
              <Select
                size="small"
                displayEmpty
                value={chosen}
                onChange={(e) => setChosen(e.target.value as number)}
                inputProps={{ "aria-label": "User" }}
                sx={{ minWidth: 180 }}
              >
                <MenuItem value="" disabled>
                  Choose a user
                </MenuItem>
                {users.data?.items
                  .filter((u) => !own.has(u.id))
                  .map((u) => (
                    <MenuItem key={u.id} value={u.id}>
                      {u.username}
                    </MenuItem>
                  ))}
              </Select>
              {chosen !== "" && (
                <LimitsForm
                  label="User budget"
                  onSave={async (body) => {
                    const saved = await alert.attempt(() => saveUser({ userId: chosen, body }));
                    if (saved) setChosen("");
                    return saved;
                  }}
                />
              )}
            </Box>
          </Paper>
          <TableContainer component={Paper}>
            <Table size="small" aria-label="Users' own budgets">
              <TableHead>
                <TableRow>
                  <TableCell>User</TableCell>
                  <TableCell align="right">Daily</TableCell>
                  <TableCell align="right">Monthly</TableCell>
                  <TableCell />
                </TableRow>
              </TableHead>
              <TableBody>
                {list.users.length === 0 && (
                  <TableRow>
                    <TableCell colSpan={4} sx={{ color: "text.secondary" }}>
                      Everyone has the default.
                    </TableCell>
                  </TableRow>
                )}
                {list.users.map((u) => (
                  <TableRow key={u.user_id} data-username={u.username}>
                    <TableCell>{u.username}</TableCell>
                    <TableCell align="right">{shown(u.daily_tokens)}</TableCell>
                    <TableCell align="right">{shown(u.monthly_tokens)}</TableCell>
                    <TableCell align="right">
                      <Button size="small" onClick={() => void alert.attempt(() => clearUser(u.user_id))}>
                        Use default
                      </Button>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        </>
      )}
    </Box>
  );
}
