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
import type { UserPatch } from "../../api/types";
import { useAuth } from "../../auth";
import { useUpdateUser, useUsers } from "../../queries/admin";
import { useErrorAlert } from "../useErrorAlert";

type Role = NonNullable<UserPatch["role"]>;

export function UsersPanel() {
  const { user: me } = useAuth();
  const list = useUsers();
  const alert = useErrorAlert(list);
  const { mutateAsync: updateUser } = useUpdateUser();
  const users = list.data?.items ?? [];

  const update = (id: number, patch: UserPatch) => void alert.attempt(() => updateUser({ id, patch }));

  return (
    <>
      <Typography variant="h6" gutterBottom>
        Users
      </Typography>
      {alert.message && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={alert.clear}>
          {alert.message}
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
                    onChange={(e) => update(u.id, { role: e.target.value as Role })}
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
                    onChange={(e) => update(u.id, { active: e.target.checked })}
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
