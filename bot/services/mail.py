"""Handing an email to the school's mail server (SMTP_URL, bot.config.SmtpServer), with the
standard library's smtplib: plain, STARTTLS or TLS from the start, signing in if a user is given.

Certificates are checked as any mail client checks them (ssl.create_default_context). Nothing
here logs an address, a password or a message: a failure comes back as a MailNotSent whose
reason is fit to show the member of staff who asked.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage

from bot.config import SmtpServer

TIMEOUT_SECONDS = 20


class MailNotSent(Exception):
    """The mail server did not take the email. str(): why, in a few plain words."""


def send(server: SmtpServer, message: EmailMessage, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Hands `message` to the server; returns once it has accepted it. Raises MailNotSent."""
    try:
        if server.tls == "ssl":
            connection = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with connection:
            if server.tls == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if server.username:
                connection.login(server.username, server.password or "")
            connection.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise MailNotSent("the mail server refused SSP Bot's sign-in") from None
    except smtplib.SMTPRecipientsRefused:
        raise MailNotSent("the mail server refused that address") from None
    except smtplib.SMTPNotSupportedError:
        raise MailNotSent("the mail server does not offer what SMTP_URL asks for") from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError,
            TimeoutError, socket.gaierror):  # fmt: skip
        raise MailNotSent("the mail server could not be reached") from None
    except ssl.SSLError:
        raise MailNotSent("the mail server's encryption could not be checked") from None
    except smtplib.SMTPException:
        raise MailNotSent("the mail server refused the email") from None
    except OSError:
        raise MailNotSent("the mail server could not be reached") from None
