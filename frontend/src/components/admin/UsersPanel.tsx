import {
  Alert,
  MenuItem,
  Paper,
  Select,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableRow,
  Typography,
} from "@mui/material";
import { useCallback, useEffect, useState } from "react";
import type { UserList, UserOut, UserPatch } from "../../api/types";
import { useAuth } from "../../auth";

export function UsersPanel() {
  const { client, user: me } = useAuth();
  const [users, setUsers] = useState<UserOut[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setUsers((await client.get<UserList>("/api/admin/users")).items);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const update = async (id: number, patch: UserPatch) => {
    setError(null);
    try {
      const updated = await client.patch<UserOut>(`/api/admin/users/${id}`, patch);
      setUsers((list) => list.map((u) => (u.id === id ? updated : u)));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <>
      <Typography variant="h6" gutterBottom>
        Users
      </Typography>
      {error && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      <TableContainer component={Paper}>
        <Table size="small" aria-label="Users">
          <TableHead>
            <TableRow>
              <TableCell>Username</TableCell>
              <TableCell sx={{ display: { xs: "none", sm: "table-cell" } }}>Email</TableCell>
              <TableCell>Role</TableCell>
              <TableCell>Active</TableCell>
              <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>Created</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {users.map((u) => (
              <TableRow key={u.id} data-username={u.username}>
                <TableCell>{u.username}</TableCell>
                <TableCell sx={{ display: { xs: "none", sm: "table-cell" } }}>{u.email ?? "—"}</TableCell>
                <TableCell>
                  <Select
                    size="small"
                    value={u.role}
                    disabled={u.id === me?.id}
                    onChange={(e) => void update(u.id, { role: e.target.value as "user" | "admin" })}
                    inputProps={{ "aria-label": `Role of ${u.username}` }}
                  >
                    <MenuItem value="user">user</MenuItem>
                    <MenuItem value="admin">admin</MenuItem>
                  </Select>
                </TableCell>
                <TableCell>
                  <Switch
                    checked={u.active}
                    disabled={u.id === me?.id}
                    onChange={(e) => void update(u.id, { active: e.target.checked })}
                    slotProps={{ input: { "aria-label": `${u.username} active` } }}
                  />
                </TableCell>
                <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>{new Date(u.created_at).toLocaleString()}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </TableContainer>
    </>
  );
}
