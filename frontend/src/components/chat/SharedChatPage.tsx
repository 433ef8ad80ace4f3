import { Alert, Box, CircularProgress, Container, Paper, Typography } from "@mui/material";
import { useParams } from "react-router-dom";
import { Markdown } from "../../markdown/Markdown";
import { useSharedChat } from "../../queries/shares";
import { TopBar } from "../TopBar";
import { USER_BUBBLE } from "./MessageItem";

/** A chat shared with a link, read-only, as it was when shared. */
export function SharedChatPage() {
  const token = useParams().token ?? "";
  const shared = useSharedChat(token);
  const chat = shared.data;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", height: "100%" }}>
      <TopBar title={chat?.title ?? "Shared chat"} area="chat" />
      <Box sx={{ flex: 1, overflowY: "auto" }} data-testid="shared-chat">
        <Container maxWidth="md" sx={{ py: 3, display: "flex", flexDirection: "column", gap: 2.5 }}>
          {shared.isLoading && <CircularProgress sx={{ alignSelf: "center" }} />}
          {shared.isError && (
            <Alert severity="warning">{shared.error.message}</Alert>
          )}
          {chat && (
            <>
              <Typography variant="body2" color="text.secondary" data-testid="shared-by">
                Shared by {chat.shared_by} on {new Date(chat.shared_at).toLocaleString()}. Read-only: the chat as
                it was then.
              </Typography>
              {chat.messages.map((message, n) =>
                message.role === "user" ? (
                  <Paper
                    key={n}
                    data-role="user"
                    elevation={0}
                    sx={{ ...USER_BUBBLE, alignSelf: "flex-end" }}
                  >
                    {message.content}
                  </Paper>
                ) : (
                  <Box key={n} data-role="assistant" className="reply-text">
                    <Markdown text={message.content} sources={message.citations?.length ?? 0} />
                    {(message.citations?.length ?? 0) > 0 && (
                      <Typography variant="caption" color="text.secondary">
                        Sources: {message.citations!.map((c, i) => `[${i + 1}] ${String(c.title ?? "")}`).join(" · ")}
                      </Typography>
                    )}
                  </Box>
                ),
              )}
            </>
          )}
        </Container>
      </Box>
    </Box>
  );
}
