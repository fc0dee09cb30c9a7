import { Component, ReactNode } from 'react';

/**
 * Shows a sentence instead of a blank page when a part of the page fails to render, most often a page's code
 * that could not be loaded because the server stopped answering. Give it a `key` that changes on navigation.
 */
export class PageBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="error" role="alert">
        <p>This part of the dashboard could not be loaded: the server may be stopped or restarting. Check that it runs, then try again.</p>
        <button type="button" onClick={() => window.location.reload()}>
          Try again
        </button>
      </div>
    );
  }
}
