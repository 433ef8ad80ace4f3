import { ToggleButton, ToggleButtonGroup } from "@mui/material";
import { WINDOWS } from "./window";

export function WindowPicker({ days, onChange }: { days: number; onChange: (days: number) => void }) {
  return (
    <ToggleButtonGroup
      size="small"
      exclusive
      value={days}
      onChange={(_, value: number | null) => value && onChange(value)}
      aria-label="Period"
    >
      {WINDOWS.map((n) => (
        <ToggleButton key={n} value={n}>
          {n} days
        </ToggleButton>
      ))}
    </ToggleButtonGroup>
  );
}
