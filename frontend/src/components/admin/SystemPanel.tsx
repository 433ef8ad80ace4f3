import OpenInNewIcon from "@mui/icons-material/OpenInNew";
import { Alert, Box, Button, Chip, Paper, Typography } from "@mui/material";
import { useSystem } from "../../queries/admin";

const QUEUE_ORDER = ["inference", "batch", "ingest"] as const;

export function SystemPanel() {
  const { data: system, error } = useSystem();

  return (
    <>
      <Typography variant="h6" gutterBottom>
        System
      </Typography>
      {error && <Alert severity="error" sx={{ mb: 2 }}>{error.message}</Alert>}
      {system && (
        <Box sx={{ display: "flex", flexDirection: "column", gap: 3 }}>
          <Box sx={{ display: "grid", gridTemplateColumns: "repeat(auto-fit, minmax(160px, 1fr))", gap: 2 }}>
            {QUEUE_ORDER.map((name) => [name, system.queues[name]] as const).map(([name, depth]) => (
              <Paper key={name} sx={{ p: 2 }} data-queue={name}>
                <Typography variant="overline" color="text.secondary">
                  {name} queue
                </Typography>
                <Typography variant="h4">{depth}</Typography>
                <Typography variant="caption" color="text.secondary">
                  jobs waiting
                </Typography>
              </Paper>
            ))}
          </Box>
          <Paper sx={{ p: 2 }}>
            <Typography variant="subtitle1" gutterBottom>
              Workers ({system.workers.length})
            </Typography>
            {system.workers.length === 0 ? (
              <Typography color="text.secondary">No worker answered. Replies wait in the queue until one starts.</Typography>
            ) : (
              <Box sx={{ display: "flex", flexWrap: "wrap", gap: 1 }}>
                {system.workers.map((name) => (
                  <Chip key={name} label={name} color="success" variant="outlined" />
                ))}
              </Box>
            )}
          </Paper>
          <Box>
            <Button variant="outlined" endIcon={<OpenInNewIcon />} href={system.flower_url} target="_blank" rel="noopener noreferrer">
              Open Flower
            </Button>
          </Box>
        </Box>
      )}
    </>
  );
}
