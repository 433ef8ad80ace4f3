// The breakdowns a usage report carries (by model, by API key, by user), as small tables.
import { Paper, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, Typography } from "@mui/material";

interface Row {
  key: string;
  name: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function UsageTable({ title, rows, column }: { title: string; rows: Row[]; column: string }) {
  return (
    <TableContainer component={Paper}>
      <Typography variant="subtitle2" sx={{ px: 2, pt: 1.5 }}>
        {title}
      </Typography>
      <Table size="small" aria-label={title}>
        <TableHead>
          <TableRow>
            <TableCell>{column}</TableCell>
            <TableCell align="right">Requests</TableCell>
            <TableCell align="right">Prompt</TableCell>
            <TableCell align="right">Completion</TableCell>
            <TableCell align="right">Total</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.length === 0 && (
            <TableRow>
              <TableCell colSpan={5} sx={{ color: "text.secondary" }}>
                Nothing in this period.
              </TableCell>
            </TableRow>
          )}
          {rows.map((row) => (
            <TableRow key={row.key} data-row={row.name}>
              <TableCell>{row.name}</TableCell>
              <TableCell align="right">{row.requests.toLocaleString()}</TableCell>
              <TableCell align="right">{row.prompt_tokens.toLocaleString()}</TableCell>
              <TableCell align="right">{row.completion_tokens.toLocaleString()}</TableCell>
              <TableCell align="right" data-total>
                {row.total_tokens.toLocaleString()}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

export const keyName = (id: number | null, name: string | null) => (id === null ? "Web and access tokens" : (name ?? `key ${id}`));
