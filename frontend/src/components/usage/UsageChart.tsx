// Tokens per day as stacked bars (prompt below, completion above): a small SVG, no chart library.
import { Box, Typography, useTheme } from "@mui/material";
import type { DayUsage } from "../../api/types";

const HEIGHT = 160;

export function UsageChart({ days, label }: { days: DayUsage[]; label: string }) {
  const theme = useTheme();
  const top = Math.max(1, ...days.map((d) => d.total_tokens));
  const width = Math.max(days.length * 14, 280);
  const bar = width / Math.max(days.length, 1); // stretched to the box's width
  return (
    <Box>
      <Box sx={{ display: "flex", gap: 2, mb: 1, alignItems: "center" }}>
        <Typography variant="caption" color="text.secondary">
          most in a day: {top.toLocaleString()} tokens
        </Typography>
        <Legend color={theme.palette.primary.main} text="prompt" />
        <Legend color={theme.palette.secondary.main} text="completion" />
      </Box>
      <Box sx={{ overflowX: "auto" }}>
        <svg role="img" aria-label={label} width="100%" height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} preserveAspectRatio="none">
          {days.map((day, i) => {
            const prompt = (day.prompt_tokens / top) * HEIGHT;
            const completion = (day.completion_tokens / top) * HEIGHT;
            const x = i * bar + bar * 0.15;
            return (
              <g key={day.day} data-day={day.day} data-total={day.total_tokens}>
                <title>{`${day.day}: ${day.prompt_tokens} prompt + ${day.completion_tokens} completion tokens, ${day.requests} requests`}</title>
                <rect x={x} y={HEIGHT - prompt} width={bar * 0.7} height={prompt} fill={theme.palette.primary.main} />
                <rect x={x} y={HEIGHT - prompt - completion} width={bar * 0.7} height={completion} fill={theme.palette.secondary.main} />
              </g>
            );
          })}
        </svg>
      </Box>
      {days.length > 0 && (
        <Box sx={{ display: "flex", justifyContent: "space-between" }}>
          <Typography variant="caption" color="text.secondary">
            {days[0].day}
          </Typography>
          <Typography variant="caption" color="text.secondary">
            {days[days.length - 1].day}
          </Typography>
        </Box>
      )}
    </Box>
  );
}

function Legend({ color, text }: { color: string; text: string }) {
  return (
    <Box sx={{ display: "flex", alignItems: "center", gap: 0.5 }}>
      <Box sx={{ width: 10, height: 10, bgcolor: color, borderRadius: 0.5 }} />
      <Typography variant="caption">{text}</Typography>
    </Box>
  );
}
